"""Stored figures of a conversation, kept up to date by hooks rather than recomputed.

A conversation lives in cycles: a customer message on a new or resolved conversation
starts one (``first_inbound_at``); the first reply of the business answers it
(``first_response_at``); resolving it closes it (``resolved_at``). Times are counted in
business minutes of the team's WhatsApp calendar, else of the company's calendar.
Figures that do not apply stay NULL in the database, so that averages ignore them.
"""

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import SQL

# Messages that do not answer the customer.
NOT_A_RESPONSE_TYPES = {"reaction", "system"}


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    def _metrics_is_automatic(self):
        """Sent by the system (away message, survey, scheduled jobs), not by a person."""
        self.ensure_one()
        return bool(
            self.env.context.get("whatsapp_crm_automatic")
            or not self.author_user_id
            or self.author_user_id.id == SUPERUSER_ID
        )


class WhatsappCrmConversation(models.Model):
    _inherit = "whatsapp.crm.conversation"

    first_inbound_at = fields.Datetime(
        string="Waiting Since",
        readonly=True,
        copy=False,
        help="The customer message that started the current cycle of the conversation.",
    )
    first_response_at = fields.Datetime(string="First Response", readonly=True, copy=False)
    first_response_minutes = fields.Float(
        string="First Response Time (min)",
        readonly=True,
        copy=False,
        aggregator="avg",
        digits=(16, 1),
        help="Business minutes between the customer's first message and the first reply.",
    )
    resolved_at = fields.Datetime(readonly=True, copy=False)
    resolution_minutes = fields.Float(
        string="Resolution Time (min)",
        readonly=True,
        copy=False,
        aggregator="avg",
        digits=(16, 1),
        help="Business minutes between the customer's first message and the resolution.",
    )
    message_count = fields.Integer(string="Number of Messages", readonly=True, copy=False)
    inbound_count = fields.Integer(string="Customer Messages", readonly=True, copy=False)
    outbound_count = fields.Integer(string="Business Messages", readonly=True, copy=False)
    lead_won = fields.Boolean(
        compute="_compute_lead_won", store=True, aggregator="bool_or"
    )

    _company_first_inbound_idx = models.Index("(company_id, first_inbound_at)")
    _company_resolved_idx = models.Index("(company_id, resolved_at) WHERE resolved_at IS NOT NULL")
    _user_state_idx = models.Index("(user_id, state)")

    @api.depends("lead_id.won_status")
    def _compute_lead_won(self):
        for conversation in self:
            conversation.lead_won = conversation.lead_id.won_status == "won"

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------

    def _metrics_on_message(self, message):
        """Called once, right after a message of this conversation is created."""
        self.ensure_one()
        message_values = {"user_id": self.user_id.id, "team_id": self.team_id.id}
        if message.direction == "out":
            message_values.update(message._rate_values(message.state))
        message.sudo().write(message_values)
        conversation = self.sudo()
        values = {"message_count": conversation.message_count + 1}
        if message.direction == "in":
            values["inbound_count"] = conversation.inbound_count + 1
            if conversation._csat_take_answer(message):
                conversation.write(values)
                return
            if not conversation.first_inbound_at or conversation.state == "resolved":
                conversation._metrics_set_null(["first_response_at", "first_response_minutes"])
                values["first_inbound_at"] = message.timestamp
        else:
            values["outbound_count"] = conversation.outbound_count + 1
            if (
                conversation.first_inbound_at
                and not conversation.first_response_at
                and message.message_type not in NOT_A_RESPONSE_TYPES
                and not message._metrics_is_automatic()
            ):
                responded_at = max(message.timestamp, conversation.first_inbound_at)
                values.update(
                    first_response_at=responded_at,
                    first_response_minutes=conversation._business_minutes(
                        conversation.first_inbound_at, responded_at
                    ),
                )
        conversation.write(values)

    def write(self, vals):
        if self.env.context.get("whatsapp_crm_keep_state") and "state" in vals:
            vals = {key: value for key, value in vals.items() if key != "state"}
        if "state" not in vals:
            result = super().write(vals)
            self._metrics_on_assignment(vals)
            return result
        if vals["state"] == "resolved":
            resolving = self.filtered(lambda c: c.state != "resolved")
            result = super().write(vals)
            resolving._metrics_on_resolve()
            self._metrics_on_assignment(vals)
            return result
        reopening = self.filtered(lambda c: c.state == "resolved")
        result = super().write(vals)
        if reopening:
            reopening._metrics_set_null(["resolved_at", "resolution_minutes"])
        self._metrics_on_assignment(vals)
        return result

    def _metrics_on_assignment(self, vals):
        """Messages of the current cycle stored before anyone was assigned go to the assignee."""
        for fname in ("user_id", "team_id"):
            if not vals.get(fname):
                continue
            self.env["whatsapp.crm.message"].flush_model([fname, "conversation_id", "timestamp"])
            for conversation in self.filtered("first_inbound_at"):
                self.env.cr.execute(SQL(
                    """UPDATE whatsapp_crm_message SET %s = %s
                        WHERE conversation_id = %s AND %s IS NULL AND timestamp >= %s""",
                    SQL.identifier(fname), vals[fname], conversation.id,
                    SQL.identifier(fname), conversation.first_inbound_at,
                ))
            self.env["whatsapp.crm.message"].invalidate_model([fname])

    def _metrics_on_resolve(self):
        now = fields.Datetime.now()
        for conversation in self.sudo():
            start = conversation.first_inbound_at
            values = {"resolved_at": now}
            if start:
                values["resolution_minutes"] = conversation._business_minutes(start, now)
            conversation.write(values)
        self._csat_request()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _business_calendar(self):
        self.ensure_one()
        calendar = getattr(self.team_id, "whatsapp_calendar_id", False)
        company = self.company_id or self.env.company
        return calendar or company.resource_calendar_id

    def _business_minutes(self, start, end):
        """Working minutes of the conversation's calendar between two naive UTC datetimes."""
        self.ensure_one()
        if not start or not end or end <= start:
            return 0.0
        calendar = self._business_calendar()
        if not calendar:
            return (end - start).total_seconds() / 60
        return round(calendar.get_work_hours_count(start, end) * 60, 1)

    def _metrics_set_null(self, fnames):
        """Store NULL (not 0) so that the figure is left out of averages."""
        if not self.ids:
            return
        self.flush_recordset(fnames)
        self.env.cr.execute(SQL(
            "UPDATE %s SET %s WHERE id IN %s",
            SQL.identifier(self._table),
            SQL(", ").join(SQL("%s = NULL", SQL.identifier(fname)) for fname in fnames),
            tuple(self.ids),
        ))
        self.invalidate_recordset(fnames)
