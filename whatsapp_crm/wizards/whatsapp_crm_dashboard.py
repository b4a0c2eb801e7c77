"""The manager's dashboard: a handful of figures over a period, read from stored fields."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL

FIGURES = [
    "conversation_count", "inbound_count", "outbound_count",
    "first_response_avg", "first_response_p90", "resolution_avg", "resolution_p90",
    "backlog_new", "backlog_open", "backlog_pending", "backlog_total",
    "lead_count", "lead_won_count", "lead_won_revenue",
    "delivery_rate", "read_rate", "failure_rate", "csat_avg", "csat_count",
]


class WhatsappCrmDashboard(models.TransientModel):
    _name = "whatsapp.crm.dashboard"
    _description = "WhatsApp Dashboard"

    date_from = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=29),
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    currency_id = fields.Many2one("res.currency", default=lambda self: self.env.company.currency_id)
    conversation_count = fields.Integer("New Conversations", compute="_compute_figures")
    inbound_count = fields.Integer("Customer Messages", compute="_compute_figures")
    outbound_count = fields.Integer("Business Messages", compute="_compute_figures")
    first_response_avg = fields.Float("First Response, Average (min)", compute="_compute_figures",
                                      digits=(16, 1))
    first_response_p90 = fields.Float("First Response, 90th Percentile (min)",
                                      compute="_compute_figures", digits=(16, 1))
    resolution_avg = fields.Float("Resolution, Average (min)", compute="_compute_figures",
                                  digits=(16, 1))
    resolution_p90 = fields.Float("Resolution, 90th Percentile (min)", compute="_compute_figures",
                                  digits=(16, 1))
    backlog_new = fields.Integer("New", compute="_compute_figures")
    backlog_open = fields.Integer("Open", compute="_compute_figures")
    backlog_pending = fields.Integer("Pending Customer", compute="_compute_figures")
    backlog_total = fields.Integer("Backlog", compute="_compute_figures")
    lead_count = fields.Integer("Leads from WhatsApp", compute="_compute_figures")
    lead_won_count = fields.Integer("Leads Won", compute="_compute_figures")
    lead_won_revenue = fields.Monetary("Won Revenue", compute="_compute_figures")
    delivery_rate = fields.Float("Delivery Rate (%)", compute="_compute_figures", digits=(16, 1))
    read_rate = fields.Float("Read Rate (%)", compute="_compute_figures", digits=(16, 1))
    failure_rate = fields.Float("Failure Rate (%)", compute="_compute_figures", digits=(16, 1))
    csat_avg = fields.Float("Satisfaction (1-5)", compute="_compute_figures", digits=(16, 2))
    csat_count = fields.Integer("Survey Answers", compute="_compute_figures")

    @api.depends("date_from", "date_to")
    def _compute_figures(self):
        for dashboard in self:
            figures = self._dashboard_data(dashboard.date_from, dashboard.date_to)
            for name in FIGURES:
                dashboard[name] = figures[name] or 0

    @api.model
    def _dashboard_data(self, date_from, date_to):
        """The figures of the companies in use, for the days date_from to date_to included.

        Conversations count by the day they started, resolutions by the day they were
        resolved, messages by their timestamp, leads by their creation; the backlog is
        the current one. Times are business minutes; None when nothing was measured.
        """
        date_from = fields.Date.to_date(date_from) or fields.Date.context_today(self)
        date_to = fields.Date.to_date(date_to) or date_from
        start = datetime.combine(date_from, time.min)
        end = datetime.combine(date_to + timedelta(days=1), time.min)
        companies = tuple(self.env.companies.ids)
        figures = dict.fromkeys(FIGURES)
        cr = self.env.cr
        self.env.flush_all()

        cr.execute(SQL("""
            SELECT count(*), avg(first_response_minutes),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_minutes)
              FROM whatsapp_crm_conversation
             WHERE company_id IN %s AND first_inbound_at >= %s AND first_inbound_at < %s
        """, companies, start, end))
        (figures["conversation_count"], figures["first_response_avg"],
         figures["first_response_p90"]) = cr.fetchone()

        cr.execute(SQL("""
            SELECT avg(resolution_minutes),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_minutes),
                   avg(csat_score), count(csat_score)
              FROM whatsapp_crm_conversation
             WHERE company_id IN %s AND resolved_at >= %s AND resolved_at < %s
        """, companies, start, end))
        (figures["resolution_avg"], figures["resolution_p90"],
         figures["csat_avg"], figures["csat_count"]) = cr.fetchone()

        cr.execute(SQL("""
            SELECT state, count(*) FROM whatsapp_crm_conversation
             WHERE company_id IN %s AND state != 'resolved' GROUP BY state
        """, companies))
        backlog = dict(cr.fetchall())
        figures.update(backlog_new=backlog.get("new", 0), backlog_open=backlog.get("open", 0),
                       backlog_pending=backlog.get("pending", 0),
                       backlog_total=sum(backlog.values()))

        cr.execute(SQL("""
            SELECT count(*) FILTER (WHERE direction = 'in'),
                   count(*) FILTER (WHERE direction = 'out'),
                   avg(delivered_rate), avg(read_rate), avg(failed_rate)
              FROM whatsapp_crm_message
             WHERE company_id IN %s AND timestamp >= %s AND timestamp < %s
        """, companies, start, end))
        (figures["inbound_count"], figures["outbound_count"], figures["delivery_rate"],
         figures["read_rate"], figures["failure_rate"]) = cr.fetchone()

        source = self.env.ref("whatsapp_crm.utm_source_whatsapp", raise_if_not_found=False)
        cr.execute(SQL("""
            SELECT count(*), count(*) FILTER (WHERE won_status = 'won'),
                   COALESCE(sum(whatsapp_won_revenue), 0)
              FROM crm_lead
             WHERE (company_id IN %s OR company_id IS NULL) AND source_id = %s
               AND create_date >= %s AND create_date < %s
        """, companies, source.id if source else 0, start, end))
        figures["lead_count"], figures["lead_won_count"], figures["lead_won_revenue"] = \
            cr.fetchone()
        return {name: float(value) if isinstance(value, Decimal) else value
                for name, value in figures.items()}
