from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    # WhatsApp punishes numbers whose customers get too much marketing: at most this many
    # marketing templates per contact in a rolling window, across all mailings.
    whatsapp_crm_marketing_cap = fields.Integer(
        string="WhatsApp Marketing Messages per Contact", default=2,
        help="At most this many marketing templates reach one contact in the rolling "
        "window, across all WhatsApp mailings (0: no cap).",
    )
    whatsapp_crm_marketing_cap_days = fields.Integer(
        string="WhatsApp Marketing Window (Days)", default=7,
    )
    # Consent is proof given at one moment; some laws and Meta's policy want it renewed.
    whatsapp_crm_consent_max_age_days = fields.Integer(
        string="WhatsApp Consent Expires After (Days)", default=0,
        help="An opt-in older than this goes back to unknown, so that marketing mailings "
        "stop reaching the contact until they agree again (0: never expires).",
    )
