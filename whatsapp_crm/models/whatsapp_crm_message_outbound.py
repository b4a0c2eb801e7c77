import logging
import random
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from ..lib import errors as api_errors
from .whatsapp_crm_message import MEDIA_TYPES
from .whatsapp_crm_webhook_event import CONCURRENCY_ERRORS

_lt = LazyTranslate(__name__)

_logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
# A request whose answer was lost may still have reached Meta: wait this long for
# a status webhook carrying our callback data before sending it again.
RECONCILE_PARAM = "whatsapp_crm.send_reconcile_seconds"
RECONCILE_DEFAULT_SECONDS = 120
CALLBACK_PREFIX = "whatsapp.crm.message:"

# What a salesperson reads when Meta refuses a message (cloud_api.md §7).
ERROR_EXPLANATIONS = {
    131047: _lt(
        "More than 24 hours passed since the customer's last message: "
        "send an approved template instead."
    ),
    131050: _lt("The customer stopped marketing messages from you."),
    131026: _lt(
        "This number cannot receive WhatsApp messages (not on WhatsApp, "
        "old app version, or the customer blocked you)."
    ),
    131049: _lt(
        "Meta limits how many marketing messages this customer receives; try again tomorrow."
    ),
    132001: _lt("The template does not exist in this language or is not approved."),
    132000: _lt("The template's variables do not match: synchronise the templates."),
    132015: _lt("The template is paused because of low quality."),
    132016: _lt("The template was disabled by Meta."),
    131053: _lt("The file could not be sent: its type or size is not accepted."),
    190: _lt("The WhatsApp access token expired: ask an administrator to renew it."),
}


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    author_user_id = fields.Many2one("res.users", string="Sent By", readonly=True)
    template_id = fields.Many2one("whatsapp.crm.template", readonly=True, index="btree_not_null")
    send_attempts = fields.Integer(readonly=True)
    last_attempt_at = fields.Datetime(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, index="btree_not_null")
    awaiting_reconciliation = fields.Boolean(
        readonly=True,
        help="The last request may have reached Meta without an answer: a status webhook "
        "will tell, before the message is sent again.",
    )
    outbound_payload = fields.Json(readonly=True, help="The request body sent to Meta.")

    _outbound_queue_idx = models.Index("(next_attempt_at, id) WHERE state = 'queued'")

    # ------------------------------------------------------------------
    # The single door for outbound messages
    # ------------------------------------------------------------------

    @api.model
    def _queue_outbound(self, conversation, payload, *, message_type, body="",
                        attachments=None, reply_to=None, template_category=None):
        """Check what Meta would refuse, queue the message, and send it after commit."""
        conversation.ensure_one()
        is_template = message_type == "template"
        if not is_template and not conversation.window_open:
            raise UserError(self.env._(
                "The 24-hour window with %(customer)s is closed: WhatsApp only accepts "
                "an approved template until the customer writes again.",
                customer=conversation.name,
            ))
        partner = conversation.partner_id
        if (template_category or "").upper() == "MARKETING" and partner and \
                getattr(partner, "whatsapp_opt_in", "opted_in") != "opted_in":
            raise UserError(self.env._(
                "%(customer)s has not agreed to receive marketing messages on WhatsApp.",
                customer=conversation.name,
            ))
        message = self.sudo().create({
            "conversation_id": conversation.id,
            "account_id": conversation.account_id.id,
            "lead_id": conversation.lead_id.id,
            "direction": "out",
            "state": "queued",
            "message_type": message_type,
            "body": body,
            "reply_to_id": reply_to.id if reply_to else False,
            "attachment_ids": [fields.Command.link(a.id) for a in (attachments or [])],
            "author_user_id": self.env.uid,
            "next_attempt_at": fields.Datetime.now(),
            "outbound_payload": payload,
        })
        conversation._metrics_on_message(message)
        conversation.sudo().write({"last_message_at": message.timestamp})
        message._post_outbound_to_chatter()
        message._send_after_commit()
        return message

    def _send_after_commit(self):
        ids = self.ids
        dbname = self.env.cr.dbname
        uid = self.env.uid

        def send_now():
            registry = modules.registry.Registry(dbname)
            with registry.cursor() as cr:
                env = api.Environment(cr, uid, {})
                env["whatsapp.crm.message"].browse(ids)._send_queued()

        if not modules.module.current_test:
            self.env.cr.postcommit.add(send_now)
        self._wake_sender_at(fields.Datetime.now() + timedelta(seconds=5))

    def _wake_sender_at(self, when):
        """Make sure the sending job runs again when a retry is due (fallback: every minute)."""
        self.env.ref("whatsapp_crm.ir_cron_send_queue").sudo()._trigger(when)

    # ------------------------------------------------------------------
    # Sending (cron and post-commit)
    # ------------------------------------------------------------------

    @api.model
    def _cron_send_queue(self, batch_size=50):
        due = self.search(
            [("state", "=", "queued"), ("direction", "=", "out"),
             ("next_attempt_at", "<=", fields.Datetime.now())],
            order="next_attempt_at, id",
            limit=batch_size,
        )
        due._send_queued()
        if due and not modules.module.current_test:
            remaining = self.search_count([("state", "=", "queued"), ("direction", "=", "out")])
            self.env["ir.cron"]._commit_progress(len(due), remaining=remaining)

    def _send_queued(self):
        """Send each due message once, under a row lock, one transaction each."""
        auto_commit = not modules.module.current_test
        for message_id in self.ids:
            message = self.browse(message_id)
            self.env.cr.execute(
                """SELECT id FROM whatsapp_crm_message
                    WHERE id = %s AND state = 'queued' AND next_attempt_at <= %s
                      FOR UPDATE SKIP LOCKED""",
                [message_id, fields.Datetime.now()],
            )
            if not self.env.cr.fetchone():
                continue  # sent, reconciled, not due yet, or another worker has it
            message.invalidate_recordset()
            if message.awaiting_reconciliation and message.wamid:
                message.awaiting_reconciliation = False  # a status webhook answered
                continue
            try:
                message._attempt_send(auto_commit)
            except CONCURRENCY_ERRORS:
                if not auto_commit:
                    raise
                # A status webhook updated the row meanwhile: it carries the outcome.
                self.env.cr.rollback()
                continue
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _attempt_send(self, auto_commit):
        self.ensure_one()
        now = fields.Datetime.now()
        reconcile = int(self.env["ir.config_parameter"].sudo().get_param(
            RECONCILE_PARAM, RECONCILE_DEFAULT_SECONDS))
        # Record the intent first: if this worker dies during the call, the message
        # waits for a status webhook instead of going out twice.
        self.write({
            "send_attempts": self.send_attempts + 1,
            "last_attempt_at": now,
            "awaiting_reconciliation": True,
            "next_attempt_at": now + timedelta(seconds=reconcile),
        })
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        try:
            payload = self._payload_for_meta()
            result = self.account_id._get_client().send_message(payload)
        except api_errors.TransportError as error:
            _logger.warning("WhatsApp message %s: no answer from Meta (%s)", self.id, error)
            # Ambiguous: stays queued, awaiting a status webhook or the reconcile delay.
            self._wake_sender_at(self.next_attempt_at)
            return
        except api_errors.CloudApiError as error:
            self._send_failed(error)
            return
        values = {
            "wamid": result.wamid,
            "awaiting_reconciliation": False,
            "next_attempt_at": False,
            "error_code": 0,
            "error_message": False,
        }
        if self.state == "queued":  # a status webhook may have been faster
            values.update(state="sent", sent_at=now)
        self.write(values)
        self._reconcile_statuses()
        self._refresh_chatter()

    def _payload_for_meta(self):
        payload = dict(self.outbound_payload or {})
        payload["to"] = f"+{self.conversation_id.wa_id}"
        payload["biz_opaque_callback_data"] = f"{CALLBACK_PREFIX}{self.id}"
        if self.reply_to_id.wamid:
            payload["context"] = {"message_id": self.reply_to_id.wamid}
        if self.message_type in MEDIA_TYPES and self.attachment_ids:
            payload[self.message_type] = self._upload_media_once(payload.get(self.message_type))
        if self.message_type == "template" and self.attachment_ids:
            self._fill_header_media(payload)
        return payload

    def _fill_header_media(self, payload):
        """Give a template's media header the id of the uploaded attachment."""
        for component in payload.get("template", {}).get("components", []):
            if component.get("type") != "header":
                continue
            for parameter in component.get("parameters", []):
                media_type = parameter.get("type")
                if media_type in ("image", "video", "document"):
                    media = self._upload_media_once(parameter.get(media_type))
                    if media_type == "document":
                        media.setdefault("filename", self.attachment_ids[:1].name)
                    parameter[media_type] = media

    def _upload_media_once(self, media_object):
        """Upload the attachment to Meta on the first attempt; reuse its id after."""
        media_object = dict(media_object or {})
        if not self.media_id:
            attachment = self.attachment_ids[:1].sudo()
            self.media_id = self.account_id._get_client().upload_media(
                attachment.raw, attachment.mimetype, attachment.name
            )
        media_object["id"] = self.media_id
        return media_object

    def _send_failed(self, error):
        if error.retryable and self.send_attempts < MAX_SEND_ATTEMPTS:
            delay = error.retry_after or min(
                BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (self.send_attempts - 1)
            )
            self.write({
                "awaiting_reconciliation": False,
                "next_attempt_at": fields.Datetime.now()
                + timedelta(seconds=delay * random.uniform(0.5, 1.5)),
                "error_code": error.code or 0,
                "error_message": str(error),
            })
            self._wake_sender_at(self.next_attempt_at)
            return
        reason = ERROR_EXPLANATIONS.get(error.code)
        explanation = str(reason) if reason else str(error)
        self.write({
            "state": "failed",
            "failed_at": fields.Datetime.now(),
            "awaiting_reconciliation": False,
            "next_attempt_at": False,
            "error_code": error.code or 0,
            "error_message": explanation,
        })
        self._refresh_chatter()
        if error.code == 131050 and self.partner_id and \
                hasattr(self.partner_id, "_whatsapp_record_meta_opt_out"):
            self.partner_id._whatsapp_record_meta_opt_out(self, error)
        self._post_failure_to_chatter(explanation)

    def action_react(self):
        """React to a customer's message with the emoji given in the context."""
        self.ensure_one()
        emoji = self.env.context.get("emoji", "👍")
        if self.direction != "in" or not self.wamid:
            raise UserError(self.env._("You can only react to a message the customer sent."))
        reaction = self._queue_outbound(
            self.conversation_id,
            {"type": "reaction", "reaction": {"message_id": self.wamid, "emoji": emoji}},
            message_type="reaction",
            body=emoji,
        )
        reaction.sudo().write({"reaction_emoji": emoji, "reaction_to_wamid": self.wamid})
        return True

    def action_resend(self):
        for message in self.filtered(lambda m: m.direction == "out" and m.state == "failed"):
            message.write({
                "state": "queued",
                "send_attempts": 0,
                "next_attempt_at": fields.Datetime.now(),
                "error_code": 0,
                "error_message": False,
            })
            message._send_after_commit()
        return True
