"""Stored figures of a message for the reports: who handled it and how it went.

The rates are 100 or 0 on outbound messages and NULL on inbound ones, so that their
average over a group of messages is the percentage of outbound messages delivered,
read or failed.
"""

from odoo import fields, models

DELIVERED_STATES = {"delivered", "read"}


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    user_id = fields.Many2one(
        "res.users", string="Agent", readonly=True, index="btree_not_null",
        help="The salesperson the conversation was assigned to when the message was stored.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True,
                              index="btree_not_null")
    delivered_rate = fields.Integer(string="Delivery Rate (%)", readonly=True, aggregator="avg")
    read_rate = fields.Integer(string="Read Rate (%)", readonly=True, aggregator="avg")
    failed_rate = fields.Integer(string="Failure Rate (%)", readonly=True, aggregator="avg")

    _company_timestamp_idx = models.Index("(company_id, timestamp)")
    _user_timestamp_idx = models.Index("(user_id, timestamp) WHERE user_id IS NOT NULL")
    _conversation_timestamp_idx = models.Index("(conversation_id, timestamp DESC, id DESC)")

    @staticmethod
    def _rate_values(state):
        return {
            "delivered_rate": 100 if state in DELIVERED_STATES else 0,
            "read_rate": 100 if state == "read" else 0,
            "failed_rate": 100 if state == "failed" else 0,
        }

    def write(self, vals):
        if "state" not in vals or "delivered_rate" in vals:
            return super().write(vals)
        outbound = self.filtered(lambda m: m.direction == "out")
        if outbound == self:
            return super().write({**vals, **self._rate_values(vals["state"])})
        result = super().write(vals)
        if outbound:
            outbound.write(self._rate_values(vals["state"]))
        return result
