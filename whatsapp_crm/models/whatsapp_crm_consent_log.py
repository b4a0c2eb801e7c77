from odoo import api, fields, models
from odoo.exceptions import UserError

CONSENT_STATES = [
    ("unknown", "Unknown"),
    ("opted_in", "Opted In"),
    ("opted_out", "Opted Out"),
]
CONSENT_SOURCES = [
    ("inbound_keyword", "Inbound Keyword"),
    ("user_preference", "WhatsApp Preference"),
    ("meta_error", "Meta Error 131050"),
    ("manual", "Manual"),
    ("import", "Import"),
    ("web_form", "Web Form"),
    ("campaign", "Campaign"),
    ("expiry", "Expired"),
]
# Sources reported by the customer or by Meta, not by a user of this database.
SYSTEM_SOURCES = {"inbound_keyword", "user_preference", "meta_error", "expiry"}


class WhatsappCrmConsentLog(models.Model):
    """One change of a contact's WhatsApp marketing consent: who, when, how and why.

    Lines are written by res.partner._whatsapp_set_consent only; nobody edits them.
    """

    _name = "whatsapp.crm.consent.log"
    _description = "WhatsApp Consent Log"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, index=True, ondelete="cascade"
    )
    state = fields.Selection(CONSENT_STATES, string="Consent", required=True)
    previous_state = fields.Selection(CONSENT_STATES, string="Previous Consent")
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    user_id = fields.Many2one(
        "res.users", string="Recorded By", help="The system for webhooks and Meta errors."
    )
    source = fields.Selection(CONSENT_SOURCES, required=True, help="How the consent was given.")
    message_id = fields.Many2one(
        "whatsapp.crm.message",
        string="WhatsApp Message",
        index="btree_not_null",
        ondelete="set null",
        help="The message that carried the keyword or failed with the opt-out error.",
    )
    proof = fields.Text(help="The customer's text, the webhook or the error, as received.")
    company_id = fields.Many2one("res.company", index=True)

    def write(self, vals):
        if self:
            raise UserError(self.env._("Consent history cannot be modified."))
        return super().write(vals)

    @api.model
    def _record(self, partner, state, previous_state, source, proof=None, message=None):
        """Create one line, as the system; callers have checked their rights."""
        user = self.env.ref("base.user_root") if source in SYSTEM_SOURCES else self.env.user
        company = message.company_id if message else partner.company_id
        return self.sudo().create(
            {
                "partner_id": partner.id,
                "state": state,
                "previous_state": previous_state,
                "user_id": user.id,
                "source": source,
                "message_id": message.id if message else False,
                "proof": proof or False,
                "company_id": company.id or False,
            }
        )
