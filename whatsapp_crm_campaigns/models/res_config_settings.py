from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    whatsapp_crm_marketing_cap = fields.Integer(
        related="company_id.whatsapp_crm_marketing_cap", readonly=False
    )
    whatsapp_crm_marketing_cap_days = fields.Integer(
        related="company_id.whatsapp_crm_marketing_cap_days", readonly=False
    )
    whatsapp_crm_consent_max_age_days = fields.Integer(
        related="company_id.whatsapp_crm_consent_max_age_days", readonly=False
    )
