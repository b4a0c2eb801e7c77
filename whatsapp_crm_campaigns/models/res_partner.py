from datetime import timedelta

from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _cron_whatsapp_crm_expire_consent(self):
        """Opt-ins older than their company's maximum age go back to unknown, with a line
        in the consent history saying so (off unless a company sets an age)."""
        now = fields.Datetime.now()
        expired = self.browse()
        companies = self.env["res.company"].sudo().search(
            [("whatsapp_crm_consent_max_age_days", ">", 0)])
        for company in companies:
            days = company.whatsapp_crm_consent_max_age_days
            partners = self.sudo().search([
                ("whatsapp_opt_in", "=", "opted_in"),
                ("whatsapp_opt_in_date", "<", now - timedelta(days=days)),
                ("company_id", "in", [False, company.id]),
                ("id", "not in", expired.ids),
            ])
            partners._whatsapp_set_consent(
                "unknown", "expiry",
                proof=self.env._("Opt-in older than %(days)s days (%(company)s).",
                                 days=days, company=company.name),
            )
            expired |= partners
        return True
