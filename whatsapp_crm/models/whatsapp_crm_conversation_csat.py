"""Customer satisfaction: a 1-5 list message on resolution, and the customer's answer.

The answer is a list_reply on one of the five rows, or a text "1" to "5". It is taken
only while the conversation is resolved and waits for it; it does not reopen the
conversation. Any other message reopens it as usual and ends the wait.
"""

import logging
import re

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import interactive

_logger = logging.getLogger(__name__)

SCORES = range(1, 6)
# list_message gives row n (0-based) titled "s" the id "n_s".
ROW_ID_RE = re.compile(r"^\d+_([1-5])$")
TEXT_SCORE_RE = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")


class WhatsappCrmAccount(models.Model):
    _inherit = "whatsapp.crm.account"

    csat_enabled = fields.Boolean(
        string="Satisfaction Survey",
        help="When a conversation is resolved while the 24-hour window is open, ask the "
        "customer to rate it from 1 to 5.",
    )
    csat_question = fields.Char(
        string="Survey Question",
        translate=True,
        default=lambda self: self.env._("How satisfied are you with our help? 1 is poor, 5 is "
                                        "excellent."),
    )


class WhatsappCrmConversation(models.Model):
    _inherit = "whatsapp.crm.conversation"

    csat_request_id = fields.Many2one(
        "whatsapp.crm.message", string="Survey Sent", readonly=True, copy=False,
        index="btree_not_null",
    )
    csat_message_id = fields.Many2one(
        "whatsapp.crm.message", string="Survey Answer", readonly=True, copy=False,
    )
    csat_score = fields.Integer(
        string="Satisfaction (1-5)", readonly=True, copy=False, aggregator="avg",
        help="The customer's last answer to the satisfaction survey.",
    )
    csat_awaiting = fields.Boolean(compute="_compute_csat_awaiting")

    _csat_idx = models.Index("(company_id, resolved_at, csat_score) WHERE csat_score IS NOT NULL")

    @api.depends("state", "csat_request_id", "csat_message_id")
    def _compute_csat_awaiting(self):
        for conversation in self:
            conversation.csat_awaiting = bool(
                conversation.state == "resolved"
                and conversation.csat_request_id
                and not conversation.csat_message_id
            )

    def _csat_request(self):
        """Send the survey through the single outbound door, where it can be sent."""
        Message = self.env["whatsapp.crm.message"].with_context(whatsapp_crm_automatic=True)
        for conversation in self.sudo().with_context(whatsapp_crm_automatic=True):
            account = conversation.account_id
            if not account.csat_enabled or not conversation.window_open:
                continue
            rows = [(str(score), conversation._csat_row_label(score)) for score in SCORES]
            try:
                built = interactive.list_message(
                    account.csat_question or "?", self.env._("Rate us"), rows
                )
                request = Message._queue_outbound(
                    conversation, {"type": "interactive", "interactive": built},
                    message_type="interactive",
                    body="\n".join([account.csat_question or "", "[1] [2] [3] [4] [5]"]),
                )
            except (UserError, ValueError) as error:
                _logger.info("Satisfaction survey not sent on %s: %s", conversation.id, error)
                continue
            conversation.write({"csat_request_id": request.id, "csat_message_id": False})

    def _csat_row_label(self, score):
        return {
            1: self.env._("Very dissatisfied"),
            2: self.env._("Dissatisfied"),
            3: self.env._("Neutral"),
            4: self.env._("Satisfied"),
            5: self.env._("Very satisfied"),
        }[score]

    def _csat_take_answer(self, message):
        """Store the score when the message answers a pending survey; say if it did."""
        self.ensure_one()
        if not self.csat_awaiting:
            return False
        score = self._csat_score_of(message)
        if not score:
            return False
        self.write({"csat_score": score, "csat_message_id": message.id})
        return True

    @staticmethod
    def _csat_score_of(message):
        if message.message_type == "interactive":
            match = ROW_ID_RE.match(message.interactive_reply_id or "")
        elif message.message_type == "text":
            match = TEXT_SCORE_RE.match(message.body or "")
        else:
            match = None
        return int(match.group(1)) if match else 0

    def _register_inbound(self, timestamp):
        conversation = self
        if self.state == "resolved" and self.csat_message_id \
                and self.csat_message_id == self._csat_last_inbound():
            # The answer to the survey: the window moves, the conversation stays resolved
            # (see the conversation's write in whatsapp_crm_conversation_metrics.py).
            conversation = self.with_context(whatsapp_crm_keep_state=True)
        return super(WhatsappCrmConversation, conversation)._register_inbound(timestamp)

    def _csat_last_inbound(self):
        return self.env["whatsapp.crm.message"].sudo().search(
            [("conversation_id", "=", self.id), ("direction", "=", "in")],
            order="id desc", limit=1,
        )
