from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    whatsapp_won_revenue = fields.Monetary(
        string="Won Revenue",
        currency_field="company_currency",
        compute="_compute_whatsapp_won_revenue",
        store=True,
        help="The expected revenue of the lead once it is won, for the reports.",
    )

    @api.depends("won_status", "expected_revenue")
    def _compute_whatsapp_won_revenue(self):
        for lead in self:
            lead.whatsapp_won_revenue = lead.expected_revenue if lead.won_status == "won" else 0.0
