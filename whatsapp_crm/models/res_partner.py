from odoo import api, fields, models

from ..lib import phone


class ResPartner(models.Model):
    _inherit = "res.partner"

    whatsapp_wa_id = fields.Char(
        string="WhatsApp ID",
        index="btree_not_null",
        copy=False,
        help="The number WhatsApp reported for this contact (digits, no +).",
    )
    whatsapp_conversation_ids = fields.One2many("whatsapp.crm.conversation", "partner_id")
    whatsapp_conversation_count = fields.Integer(compute="_compute_whatsapp_window")
    whatsapp_window_expires_at = fields.Datetime(compute="_compute_whatsapp_window")
    whatsapp_window_state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("none", "No Conversation")],
        string="WhatsApp Window",
        compute="_compute_whatsapp_window",
    )

    @api.depends("whatsapp_conversation_ids.window_expires_at")
    def _compute_whatsapp_window(self):
        conversations = self.env["whatsapp.crm.conversation"].search(
            [("partner_id", "in", self.ids)]
        )
        for partner in self:
            mine = conversations.filtered(lambda c, p=partner: c.partner_id == p)
            partner.update(mine._window_summary())

    @api.model
    def _whatsapp_find(self, wa_id, account):
        """The contact behind a WhatsApp number, tolerant of national quirks."""
        if not wa_id or not wa_id.isdigit():
            return self.browse()
        company_domain = [("company_id", "in", [False, account.company_id.id])]
        e164 = phone.e164_variants(wa_id)
        for domain in (
            [("phone_sanitized", "in", e164)],
            [("phone_mobile_search", "in", e164)],
            [("whatsapp_wa_id", "in", phone.wa_id_variants(wa_id))],
        ):
            partner = self.search(domain + company_domain, order="id", limit=1)
            if partner:
                return partner
        return self.browse()

    @api.model
    def _whatsapp_find_or_create(self, wa_id, profile_name, account):
        partner = self._whatsapp_find(wa_id, account)
        if partner:
            if not partner.whatsapp_wa_id and wa_id.isdigit():
                partner.whatsapp_wa_id = wa_id
            return partner
        number = f"+{wa_id}" if wa_id.isdigit() else False
        return self.create(
            {
                "name": profile_name or number or wa_id,
                "phone": number,
                "whatsapp_wa_id": wa_id if wa_id.isdigit() else False,
                "company_id": account.company_id.id,
            }
        )

    def action_view_whatsapp_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_conversation_action"
        )
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        return action
