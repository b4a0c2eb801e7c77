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
