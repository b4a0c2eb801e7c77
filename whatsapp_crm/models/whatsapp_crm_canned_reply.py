import re

from odoo import api, fields, models

VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class WhatsappCrmCannedReply(models.Model):
    _name = "whatsapp.crm.canned.reply"
    _description = "WhatsApp Canned Reply"
    _order = "sequence, name, id"
    _rec_names_search = ["name", "shortcut"]

    name = fields.Char(required=True, translate=True)
    shortcut = fields.Char(help="A short word to find the reply quickly, e.g. 'prices'.")
    body = fields.Text(
        required=True,
        translate=True,
        help="Variables: {{partner_name}}, {{partner_first_name}}, {{user_name}}, "
        "{{lead_name}}, {{company_name}}.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index="btree_not_null",
        help="Only this team's members see it; leave empty to share it with everyone.",
    )
    company_id = fields.Many2one(
        "res.company", index="btree_not_null", default=lambda self: self.env.company
    )

    @api.depends("name", "shortcut")
    def _compute_display_name(self):
        for reply in self:
            reply.display_name = (
                f"{reply.name} (/{reply.shortcut})" if reply.shortcut else reply.name
            )

    def _variables_for(self, record):
        """What each variable means for a lead, a contact or a conversation."""
        lead = self.env["crm.lead"]
        partner = self.env["res.partner"]
        if record and record._name == "crm.lead":
            lead, partner = record, record.partner_id
        elif record and record._name == "res.partner":
            partner = record
        elif record and record._name == "whatsapp.crm.conversation":
            lead, partner = record.lead_id, record.partner_id
        partner_name = partner.name or (
            record.profile_name if record and record._name == "whatsapp.crm.conversation"
            else ""
        ) or lead.contact_name or ""
        return {
            "partner_name": partner_name,
            "partner_first_name": partner_name.split(" ")[0] if partner_name else "",
            "user_name": self.env.user.name or "",
            "lead_name": lead.name or "",
            "company_name": self.env.company.name or "",
        }

    def _render_for(self, record):
        """The body with its {{variables}} replaced; unknown ones are left as written."""
        self.ensure_one()
        values = self._variables_for(record)
        return VARIABLE.sub(
            lambda match: values.get(match.group(1), match.group(0)), self.body or ""
        )
