"""One WhatsApp message, in or out.

A stored message changes its conversation through one entry point,
``whatsapp.crm.conversation._message_stored`` (see there for the order); inbound
messages arrive through ``_process_inbound``, outbound ones through
``_queue_outbound``.
"""

import logging
import mimetypes
from datetime import timedelta

from markupsafe import Markup
from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import plaintext2html
from odoo.tools.mimetypes import guess_mimetype
from odoo.tools.translate import LazyTranslate

from ..lib import errors as api_errors
from ..lib import media as media_rules
from ..lib import metrics, outbound, statuses
from ..lib.retry import MEDIA_POLICY, SEND_POLICY
from .whatsapp_crm_webhook_event import CONCURRENCY_ATTEMPTS, CONCURRENCY_ERRORS

_lt = LazyTranslate(__name__)
_logger = logging.getLogger(__name__)

MESSAGE_TYPES = [
    ("text", "Text"),
    ("image", "Image"),
    ("video", "Video"),
    ("audio", "Audio"),
    ("document", "Document"),
    ("sticker", "Sticker"),
    ("location", "Location"),
    ("contacts", "Contacts"),
    ("interactive", "Interactive"),
    ("button", "Button"),
    ("reaction", "Reaction"),
    ("order", "Order"),
    ("template", "Template"),
    ("system", "System"),
    ("unsupported", "Unsupported"),
]
KNOWN_TYPES = {code for code, _label in MESSAGE_TYPES}
MEDIA_TYPES = outbound.MEDIA_TYPES
KEYWORD_MESSAGE_TYPES = {"text", "button", "interactive"}
# System messages that give the customer a new number or business-scoped user id.
IDENTITY_CHANGES = {"user_changed_number", "user_changed_user_id"}

# The columns a status moves (lib/statuses.py), and their SQL types for batched updates.
STATUS_COLUMN_TYPES = {
    "state": "varchar", "sent_at": "timestamp", "delivered_at": "timestamp",
    "read_at": "timestamp", "failed_at": "timestamp", "error_code": "int4",
    "error_message": "text", "delivered_rate": "int4", "read_rate": "int4",
    "failed_rate": "int4",
}
STATUS_COLUMNS = ("state", "sent_at", "delivered_at", "read_at", "failed_at")
# How a chatter post's mail.notification mirrors the message state ("read" has no
# equivalent there: the client reads it from the message itself).
NOTIFICATION_STATUS = {
    "queued": "ready",
    "sent": "sent",
    "delivered": "sent",
    "read": "sent",
    "failed": "exception",
}

# A request whose answer was lost may still have reached Meta: wait this long for
# a status webhook carrying our callback data before sending it again.
RECONCILE_PARAM = "whatsapp_crm.send_reconcile_seconds"
RECONCILE_DEFAULT_SECONDS = 120
CALLBACK_PREFIX = "whatsapp.crm.message:"
# Meta keeps inbound media for 7 days; older ids cannot be fetched anymore.
MEDIA_RETENTION = timedelta(days=7)
MEDIA_FALLBACK_DELAY = timedelta(minutes=2)

# What a salesperson reads when Meta refuses a message; codes from
# https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
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
    _name = "whatsapp.crm.message"
    _description = "WhatsApp Message"
    _order = "timestamp desc, id desc"
    _rec_name = "body"

    conversation_id = fields.Many2one(
        "whatsapp.crm.conversation", required=True, index=True, ondelete="cascade"
    )
    account_id = fields.Many2one(
        "whatsapp.crm.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="conversation_id.partner_id", store=True, index=True)
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="set null")
    direction = fields.Selection(
        [("in", "Inbound"), ("out", "Outbound")], required=True, index=True
    )
    message_type = fields.Selection(MESSAGE_TYPES, required=True, default="text")
    original_type = fields.Char(help="Type as Meta sent it, for unsupported messages.")
    body = fields.Text()
    wamid = fields.Char(string="WhatsApp Message ID", copy=False, index="btree_not_null")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("read", "Read"),
            ("failed", "Failed"),
        ],
        required=True,
        index=True,
    )
    timestamp = fields.Datetime(default=fields.Datetime.now, index=True)
    sent_at = fields.Datetime()
    delivered_at = fields.Datetime()
    read_at = fields.Datetime()
    failed_at = fields.Datetime()
    error_code = fields.Integer()
    error_message = fields.Text()
    reply_to_id = fields.Many2one("whatsapp.crm.message", index="btree_not_null")
    reply_to_wamid = fields.Char()
    forwarded = fields.Boolean()
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "whatsapp_crm_message_ir_attachment_rel",
        "message_id",
        "attachment_id",
    )
    media_id = fields.Char(string="Media ID", copy=False)
    media_mime_type = fields.Char()
    media_filename = fields.Char()
    media_state = fields.Selection(
        [("pending", "To Download"), ("done", "Downloaded"), ("failed", "Failed")],
        index="btree_not_null",
    )
    media_error = fields.Char()
    media_attempts = fields.Integer()
    media_next_attempt_at = fields.Datetime(readonly=True)
    reaction_emoji = fields.Char()
    reaction_to_wamid = fields.Char()
    interactive_reply_id = fields.Char(help="Id or payload of the tapped button or row.")
    referral = fields.Json(help="Click-to-WhatsApp ad that brought the customer.")
    payload = fields.Json(help="The message as Meta sent it.")
    mail_message_ids = fields.One2many("mail.message", "whatsapp_crm_message_id")
    marked_read = fields.Boolean(
        readonly=True, help="Meta was told that the business read this inbound message."
    )
    # Outbound
    author_user_id = fields.Many2one("res.users", string="Sent By", readonly=True)
    auto_reply = fields.Boolean(
        readonly=True, copy=False,
        help="Sent automatically (away message, survey): it does not answer the customer.",
    )
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
    # Figures for the reports (see lib/metrics.py)
    user_id = fields.Many2one(
        "res.users", string="Agent", readonly=True, index="btree_not_null",
        help="The salesperson the conversation was assigned to when the message was stored.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True,
                              index="btree_not_null")
    delivered_rate = fields.Integer(string="Delivery Rate (%)", readonly=True, aggregator="avg")
    read_rate = fields.Integer(string="Read Rate (%)", readonly=True, aggregator="avg")
    failed_rate = fields.Integer(string="Failure Rate (%)", readonly=True, aggregator="avg")

    _account_wamid_uniq = models.Constraint(
        "UNIQUE(account_id, wamid)", "A WhatsApp message can only be stored once."
    )
    _outbound_queue_idx = models.Index("(next_attempt_at, id) WHERE state = 'queued'")
    _media_queue_idx = models.Index("(media_next_attempt_at, id) WHERE media_state = 'pending'")
    _company_timestamp_idx = models.Index("(company_id, timestamp)")
    _user_timestamp_idx = models.Index("(user_id, timestamp) WHERE user_id IS NOT NULL")
    _conversation_timestamp_idx = models.Index("(conversation_id, timestamp DESC, id DESC)")

    @api.depends("body", "message_type")
    def _compute_display_name(self):
        types = dict(MESSAGE_TYPES)
        for message in self:
            text = (message.body or "").strip().splitlines()
            message.display_name = (text[0][:80] if text else "") or types.get(
                message.message_type, ""
            )

    def _state_values(self, state):
        """Values that move messages to ``state``, with the report figures that follow it."""
        values = {"state": state}
        if self and all(message.direction == "out" for message in self):
            values.update(metrics.rate_values(state))
        return values

    def _is_customer_message(self):
        """Written by the customer: not ours, and not a notice from WhatsApp (a number
        change), which opens no window, starts no cycle and awaits no answer."""
        self.ensure_one()
        return self.direction == "in" and self.message_type != "system"

    def _is_agent_answer(self):
        """Outbound written by a person: automatic messages do not answer the customer."""
        self.ensure_one()
        author = self.author_user_id
        return (
            self.direction == "out"
            and not self.auto_reply
            and bool(author)
            and author.id != SUPERUSER_ID
            and not author.share
        )

    # ------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------

    @api.model
    def _process_inbound(self, item, account):
        """Store a customer's message once, on its partner, conversation and lead.

        Its media is not downloaded here: the caller holds the customer's locks,
        and a slow download must not hold them (see ``_fetch_pending_media``).
        """
        if not item.wamid:
            raise ValueError("Inbound message without an id")
        if self.search_count([("account_id", "=", account.id), ("wamid", "=", item.wamid)]):
            return True  # a duplicate delivery or a re-batched payload
        if not item.sender_key:
            raise ValueError(f"Inbound message {item.wamid} has no sender")
        Conversation = self.env["whatsapp.crm.conversation"].sudo()
        conversation = Conversation._find_for_sender(
            account, item.from_wa_id,
            item.from_user_id or (item.system and item.system.previous_user_id),
        )
        if conversation:
            conversation._update_profile_name(item.profile_name)
            if item.system and item.system.type in IDENTITY_CHANGES:
                conversation._change_identity(item.system)
            else:
                conversation._learn_identity(
                    item.from_wa_id, item.from_user_id, item.profile_username
                )
        else:
            conversation = Conversation._create_for_sender(
                account, item.from_wa_id, item.from_user_id, item.profile_name,
                username=item.profile_username,
            )
            if item.system and item.system.type in IDENTITY_CHANGES:
                conversation._change_identity(item.system)
        message = self.create(self._inbound_values(item, account, conversation))
        conversation._message_stored(
            message, referral=item.referral and item.raw.get("referral")
        )
        return True

    @api.model
    def _inbound_values(self, item, account, conversation):
        message_type = item.type if item.type in KNOWN_TYPES else "unsupported"
        timestamp = item.timestamp.replace(tzinfo=None) if item.timestamp else fields.Datetime.now()
        reply_to = self.browse()
        if item.context and item.context.id:
            reply_to = self.search(
                [("account_id", "=", account.id), ("wamid", "=", item.context.id)], limit=1
            )
        values = {
            "account_id": account.id,
            "conversation_id": conversation.id,
            "direction": "in",
            "state": "received",
            "wamid": item.wamid,
            "message_type": message_type,
            "original_type": item.type,
            "body": item.preview_text(),
            "timestamp": timestamp,
            "reply_to_id": reply_to.id,
            "reply_to_wamid": item.context.id if item.context else False,
            "forwarded": bool(
                item.context and (item.context.forwarded or item.context.frequently_forwarded)
            ),
            "referral": item.raw.get("referral") if item.referral else False,
            "payload": item.raw,
        }
        if item.errors:
            values["error_code"] = item.errors[0].code or 0
            values["error_message"] = item.errors[0].title or item.errors[0].message
        if item.media and item.type in MEDIA_TYPES and item.media.id:
            values.update(
                media_id=item.media.id,
                media_mime_type=item.media.mime_type,
                media_filename=item.media.filename,
                media_state="pending",
                # Downloaded right after processing; the retry job is the fallback.
                media_next_attempt_at=fields.Datetime.now() + MEDIA_FALLBACK_DELAY,
            )
        if item.reaction:
            values.update(
                reaction_emoji=item.reaction.emoji or False,
                reaction_to_wamid=item.reaction.message_id,
            )
        if item.interactive:
            values["interactive_reply_id"] = item.interactive.id
        elif item.button:
            values["interactive_reply_id"] = item.button.payload
        return values

    def _consent_keyword_texts(self):
        """What the customer said: the text, or the tapped button's payload and label."""
        self.ensure_one()
        if self.message_type == "text":
            return [self.body]
        return [self.interactive_reply_id, self.body]

    def _apply_consent_keywords(self):
        """An inbound message that is exactly a consent keyword changes the consent."""
        Keyword = self.env["whatsapp.crm.consent.keyword"]
        for message in self:
            if (
                message.direction != "in"
                or message.message_type not in KEYWORD_MESSAGE_TYPES
                or not message.partner_id
            ):
                continue
            keyword = Keyword._match(message._consent_keyword_texts(), message.company_id)
            if keyword:
                message.partner_id.sudo()._whatsapp_set_consent(
                    Keyword._consent_state(keyword.action),
                    "inbound_keyword",
                    proof=message.body,
                    message=message,
                )

    # ------------------------------------------------------------------
    # Media
    # ------------------------------------------------------------------

    def _fetch_media(self):
        """Download the media into attachments, each message in its own transaction.

        Failures are kept with the shared retry policy; the attachment is added to
        the chatter posts that show the message.
        """
        auto_commit = not modules.module.current_test
        for message_id in self.ids:
            message = self.browse(message_id)
            try:
                # The event's worker and the retry job may both reach it: one downloads.
                self.env.cr.execute(
                    """SELECT id FROM whatsapp_crm_message
                        WHERE id = %s AND media_state = 'pending' FOR UPDATE SKIP LOCKED""",
                    [message_id], log_exceptions=False,
                )
                claimed = self.env.cr.fetchone()
            except CONCURRENCY_ERRORS:
                if not auto_commit:
                    raise
                self.env.cr.rollback()
                continue
            if not claimed:
                continue
            message.invalidate_recordset()
            message._download_media()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _download_media(self):
        self.ensure_one()
        account = self.account_id
        try:
            info, content = account._get_client().fetch_media(
                self.media_id, max_bytes=account.media_max_bytes
            )
            mime_type = media_rules.accepted_mime(
                self.message_type,
                info.mime_type or self.media_mime_type,
                guess_mimetype(content, default=media_rules.UNKNOWN_MIME_TYPE),
            )
        except api_errors.CloudApiError as error:
            self._media_failed(str(error), retry=error.retryable)
        except ValueError as error:
            self._media_failed(str(error), retry=False)
        else:
            self._media_stored(content, mime_type)

    def _media_stored(self, content, mime_type):
        self.ensure_one()
        attachment = self.env["ir.attachment"].sudo().create({
            "name": self._media_file_name(mime_type),
            "raw": content,
            "mimetype": mime_type,
            "res_model": self._name,
            "res_id": self.id,
        })
        self.write({
            "attachment_ids": [fields.Command.link(attachment.id)],
            "media_state": "done",
            "media_error": False,
            "media_mime_type": mime_type,
            "media_next_attempt_at": False,
        })
        self.mail_message_ids.sudo().write({"attachment_ids": [fields.Command.link(attachment.id)]})
        self.conversation_id._notify_inbox("message")

    def _media_failed(self, reason, retry):
        self.ensure_one()
        attempts = self.media_attempts + 1
        retry = retry and MEDIA_POLICY.can_retry(attempts)
        self.write({
            "media_attempts": attempts,
            "media_error": reason[:250],
            "media_state": "pending" if retry else "failed",
            "media_next_attempt_at": fields.Datetime.now()
            + timedelta(seconds=MEDIA_POLICY.delay(attempts)) if retry else False,
        })
        if retry:
            self._wake_cron_at("whatsapp_crm.ir_cron_fetch_media", self.media_next_attempt_at)
        _logger.warning("WhatsApp media of message %s not downloaded: %s", self.id, reason)

    def _media_file_name(self, mime_type):
        if self.media_filename:
            return self.media_filename
        extension = mimetypes.guess_extension(mime_type) or ""
        return f"whatsapp-{self.message_type}-{self.id}{extension}"

    @api.model
    def _due_media_domain(self):
        now = fields.Datetime.now()
        return [
            ("media_state", "=", "pending"),
            ("media_next_attempt_at", "<=", now),
            ("timestamp", ">=", now - MEDIA_RETENTION),
        ]

    @api.model
    def _cron_fetch_pending_media(self, limit=50):
        pending = self.search(self._due_media_domain(), order="media_next_attempt_at, id",
                              limit=limit)
        pending._fetch_media()
        if pending and not modules.module.current_test:
            self.env["ir.cron"]._commit_progress(
                len(pending), remaining=self.search_count(self._due_media_domain())
            )

    # ------------------------------------------------------------------
    # Statuses
    # ------------------------------------------------------------------

    @api.model
    def _process_status(self, item, account):
        """One status webhook item (the batch does many: _apply_status_batch)."""
        if not item.wamid or not item.status:
            return False
        self._apply_status_batch([(item, account)])
        return True

    @api.model
    def _from_callback_data(self, callback_data, account):
        if not callback_data.startswith(CALLBACK_PREFIX):
            return self.browse()
        try:
            message_id = int(callback_data[len(CALLBACK_PREFIX):])
        except ValueError:
            return self.browse()
        message = self.browse(message_id).exists()
        return message if message.account_id == account else self.browse()

    def _apply_status(self, status, timestamp, status_record=None):
        """Move the message forward; a late or repeated status never moves it back."""
        self.ensure_one()
        if self.direction != "out":
            return False
        values = statuses.advance(
            {fname: self[fname] for fname in STATUS_COLUMNS}, status, timestamp,
            error_code=status_record.error_code if status_record else None,
            error_message=status_record.error_message if status_record else None,
        )
        if values:
            self.write(values)
            if "state" in values:
                self._chatter_state_changed()
        return bool(values)

    @api.model
    def _apply_status_batch(self, entries):
        """Apply many statuses at once: ``entries`` are (MessageStatus item, account).

        The same rule as ``_apply_status`` (lib/statuses.py), in a few set-based
        statements: the statuses are recorded in one insert (duplicates skipped), their
        messages read and locked in one select, moved in one update per set of changed
        columns, the statuses linked in one update and the chatter notifications in
        another; the open chatters hear of it once per conversation. A status whose
        message is unknown is kept for reconciliation, as one by one.
        Returns the messages whose state changed.
        """
        self.env.flush_all()
        recorded = self.env["whatsapp.crm.message.status"].sudo()._record_many(entries)
        if not recorded:
            return self.browse()
        cr = self.env.cr
        cr.execute(
            f"""
            SELECT id, account_id, wamid, {", ".join(STATUS_COLUMNS)}
              FROM whatsapp_crm_message
             WHERE wamid = ANY(%s) AND direction = 'out'
             ORDER BY id
               FOR NO KEY UPDATE
            """,
            [list({row["wamid"] for row in recorded})],
            # another lane may have moved them: the batch is replayed (CONCURRENCY_ERRORS)
            log_exceptions=False,
        )
        messages = {(row[1], row[2]): dict(zip(("id", *STATUS_COLUMNS), (row[0], *row[3:]),
                                               strict=True))
                    for row in cr.fetchall()}
        by_key = {}
        for row in recorded:
            by_key.setdefault((row["account_id"], row["wamid"]), []).append(row)
        unknown = [row for key, rows in by_key.items() if key not in messages for row in rows]
        changes, links = {}, []
        for key, rows in by_key.items():
            current = messages.get(key)
            if current is None:
                continue
            for row in sorted(rows, key=lambda r: (r["timestamp"], r["id"])):
                links.append((row["id"], current["id"]))
                values = statuses.advance(current, row["status"], row["timestamp"],
                                          error_code=row["error_code"],
                                          error_message=row["error_message"])
                current.update(values)
                changes.setdefault(current["id"], {}).update(values)
        self._write_status_columns({mid: vals for mid, vals in changes.items() if vals})
        if links:
            execute_values(cr._obj, """
                UPDATE whatsapp_crm_message_status s SET message_id = v.message_id
                  FROM (VALUES %s) AS v(id, message_id) WHERE s.id = v.id
            """, links)
        self.env.invalidate_all()
        changed = self.browse(mid for mid, vals in changes.items() if "state" in vals)
        changed._chatter_state_changed()
        # Statuses that arrived before their message was known by its wamid: our send's
        # answer may have been lost, and the callback data names the message.
        for row in unknown:
            if row["callback_data"]:
                self._apply_recorded_status(row)
        return changed

    def _write_status_columns(self, changes):
        """One UPDATE per set of changed columns: {message id: values}."""
        groups = {}
        for message_id, values in changes.items():
            groups.setdefault(tuple(sorted(values)), []).append((message_id, values))
        for columns, rows in groups.items():
            types = [STATUS_COLUMN_TYPES[column] for column in columns]
            execute_values(
                self.env.cr._obj,
                f"""
                UPDATE whatsapp_crm_message m
                   SET {", ".join(f'"{c}" = v."{c}"' for c in columns)},
                       write_date = now() at time zone 'UTC', write_uid = {int(self.env.uid)}
                  FROM (VALUES %s) AS v(id, {", ".join(f'"{c}"' for c in columns)})
                 WHERE m.id = v.id
                """,
                # False is the ORM's empty value; in SQL it is NULL, never a boolean.
                [(message_id, *(None if values[c] is False else values[c] for c in columns))
                 for message_id, values in rows],
                template="(%s, " + ", ".join(f"%s::{t}" for t in types) + ")",
            )

    def _apply_recorded_status(self, row):
        """One recorded status whose message was not found by its wamid."""
        status = self.env["whatsapp.crm.message.status"].sudo().browse(row["id"])
        account = self.env["whatsapp.crm.account"].sudo().browse(row["account_id"])
        message = self._from_callback_data(row["callback_data"], account)
        if message and not message.wamid:
            message.wamid = row["wamid"]
        if message and message.wamid == row["wamid"]:
            status.message_id = message
            message._apply_status(status.status, status.timestamp, status)

    def _reconcile_statuses(self):
        """Apply statuses that arrived before this message had its wamid."""
        Status = self.env["whatsapp.crm.message.status"].sudo()
        for message in self.filtered("wamid"):
            pending = Status.search(
                [
                    ("account_id", "=", message.account_id.id),
                    ("wamid", "=", message.wamid),
                    ("message_id", "=", False),
                ],
                order="timestamp, id",
            )
            for status in pending:
                status.message_id = message
                message._apply_status(status.status, status.timestamp, status)

    # ------------------------------------------------------------------
    # Outbound: the single door
    # ------------------------------------------------------------------

    @api.model
    def _queue_outbound(self, conversation, payload, *, message_type, body="",
                        attachments=None, reply_to=None, template=None, auto_reply=False):
        """Check what Meta would refuse, queue the message, and send it after commit.

        ``payload`` is a message object built by ``lib/outbound.py``; the recipient,
        the reply context and our callback data are added when it is sent.
        """
        conversation.ensure_one()
        if message_type != "template" and not conversation.window_open:
            raise UserError(self.env._(
                "The 24-hour window with %(customer)s is closed: WhatsApp only accepts "
                "an approved template until the customer writes again.",
                customer=conversation.name,
            ))
        partner = conversation.partner_id
        if template and template.category == "marketing" and partner and \
                not partner._whatsapp_can_receive_marketing():
            raise UserError(self.env._(
                "%(customer)s has not agreed to receive marketing messages on WhatsApp.",
                customer=conversation.name,
            ))
        message = self.sudo().create({
            "conversation_id": conversation.id,
            "account_id": conversation.account_id.id,
            "lead_id": conversation.lead_id.id,
            "direction": "out",
            "message_type": message_type,
            "body": body,
            "reply_to_id": reply_to.id if reply_to else False,
            "attachment_ids": [fields.Command.link(a.id) for a in (attachments or [])],
            "author_user_id": self.env.uid,
            "auto_reply": auto_reply,
            "template_id": template.id if template else False,
            "next_attempt_at": fields.Datetime.now(),
            "outbound_payload": payload,
            "state": "queued",
            **metrics.rate_values("queued"),
        })
        conversation.sudo()._message_stored(message)
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
        # Fallback when this process dies before its post-commit send.
        self._wake_cron_at("whatsapp_crm.ir_cron_send_queue",
                           fields.Datetime.now() + timedelta(seconds=5))

    def _wake_cron_at(self, cron_xmlid, when):
        """Make the job run when a retry is due, not at its next regular wake-up."""
        self.env.ref(cron_xmlid).sudo()._whatsapp_crm_trigger_at(when)

    @api.model
    def _due_send_domain(self):
        return [("state", "=", "queued"), ("direction", "=", "out"),
                ("next_attempt_at", "<=", fields.Datetime.now())]

    @api.model
    def _cron_send_queue(self, batch_size=50):
        due = self.search(self._due_send_domain(), order="next_attempt_at, id", limit=batch_size)
        due._send_queued()
        if due and not modules.module.current_test:
            remaining = self.search_count(self._due_send_domain())
            self.env["ir.cron"]._commit_progress(len(due), remaining=remaining)

    def _send_queued(self):
        """Send each due message once, under a row lock, one transaction each.

        A status webhook may update the row while Meta's answer is on its way: the
        conflict is replayed from a fresh snapshot, which then carries the outcome,
        and never reaches the salesperson.
        """
        auto_commit = not modules.module.current_test
        for message_id in self.ids:
            message = self.browse(message_id)
            if not auto_commit:
                message._send_locked(auto_commit)
                continue
            for attempt in range(1, CONCURRENCY_ATTEMPTS + 1):
                try:
                    message._send_locked(auto_commit)
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                    break
                except CONCURRENCY_ERRORS as error:
                    self.env.cr.rollback()
                    self.env.invalidate_all()
                    _logger.info("WhatsApp message %s: concurrent update (%s), attempt %d",
                                 message_id, type(error).__name__, attempt)

    def _send_locked(self, auto_commit):
        self.ensure_one()
        # A conflict here is expected and replayed by the caller: not an error to log.
        self.env.cr.execute(
            """SELECT id FROM whatsapp_crm_message
                WHERE id = %s AND state = 'queued' AND next_attempt_at <= %s
                  FOR UPDATE SKIP LOCKED""",
            [self.id, fields.Datetime.now()],
            log_exceptions=False,
        )
        if not self.env.cr.fetchone():
            return  # sent, reconciled, not due yet, or another worker has it
        self.invalidate_recordset()
        if self.awaiting_reconciliation and self.wamid:
            self.awaiting_reconciliation = False  # a status webhook answered
            return
        self._attempt_send(auto_commit)

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
            self._wake_cron_at("whatsapp_crm.ir_cron_send_queue", self.next_attempt_at)
            return
        except api_errors.CloudApiError as error:
            self._send_failed(error)
            return
        # A status webhook may have been faster than Meta's answer: start from a fresh
        # snapshot, lock the row and re-read it (a conflict is replayed by the caller).
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env.cr.execute("SELECT 1 FROM whatsapp_crm_message WHERE id = %s FOR UPDATE",
                            [self.id], log_exceptions=False)
        self.invalidate_recordset()
        values = {
            "wamid": self.wamid or result.wamid,
            "awaiting_reconciliation": False,
            "next_attempt_at": False,
            "error_code": 0,
            "error_message": False,
        }
        if self.state == "queued":
            values.update(self._state_values("sent"), sent_at=now)
        self.write(values)
        self._reconcile_statuses()
        if "state" in values:
            self._chatter_state_changed()

    def _payload_for_meta(self):
        message = dict(self.outbound_payload or {})
        if self.message_type in MEDIA_TYPES and self.attachment_ids:
            message[self.message_type] = self._upload_media_once(message.get(self.message_type))
        if self.message_type == "template" and self.attachment_ids:
            self._fill_header_media(message)
        return outbound.addressed(
            message,
            self.conversation_id._recipient_address(),
            reply_to=self.reply_to_id.wamid or None,
            callback_data=f"{CALLBACK_PREFIX}{self.id}",
        )

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
        if error.retryable and SEND_POLICY.can_retry(self.send_attempts):
            delay = SEND_POLICY.delay(self.send_attempts, retry_after=error.retry_after)
            self.write({
                "awaiting_reconciliation": False,
                "next_attempt_at": fields.Datetime.now() + timedelta(seconds=delay),
                "error_code": error.code or 0,
                "error_message": str(error),
            })
            self._wake_cron_at("whatsapp_crm.ir_cron_send_queue", self.next_attempt_at)
            return
        reason = ERROR_EXPLANATIONS.get(error.code)
        explanation = str(reason) if reason else str(error)
        self.write({
            **self._state_values("failed"),
            "failed_at": fields.Datetime.now(),
            "awaiting_reconciliation": False,
            "next_attempt_at": False,
            "error_code": error.code or 0,
            "error_message": explanation,
        })
        self._chatter_state_changed()
        if error.code == 131050 and self.partner_id:
            self.partner_id._whatsapp_record_meta_opt_out(self, error)

    def action_react(self):
        """React to a customer's message with the emoji given in the context."""
        self.ensure_one()
        emoji = self.env.context.get("emoji", "👍")
        if self.direction != "in" or not self.wamid:
            raise UserError(self.env._("You can only react to a message the customer sent."))
        reaction = self._queue_outbound(
            self.conversation_id,
            outbound.reaction(self.wamid, emoji),
            message_type="reaction",
            body=emoji,
        )
        reaction.sudo().write({"reaction_emoji": emoji, "reaction_to_wamid": self.wamid})
        return True

    def action_resend(self):
        for message in self.filtered(lambda m: m.direction == "out" and m.state == "failed"):
            message.write({
                **message._state_values("queued"),
                "send_attempts": 0,
                "next_attempt_at": fields.Datetime.now(),
                "error_code": 0,
                "error_message": False,
            })
            message._chatter_state_changed()
            message._send_after_commit()
        return True

    # ------------------------------------------------------------------
    # Chatter: one post per document, state mirrored in mail.notification
    # ------------------------------------------------------------------

    def _chatter_body(self):
        """The message as the chatter shows it; the customer's text is escaped.

        The delivery ticks are not part of it: the web client draws them from the
        message state (see static/src/chatter/message_patch.js).
        """
        self.ensure_one()
        label = dict(MESSAGE_TYPES).get(self.message_type, self.message_type)
        header = Markup()
        if self.message_type not in ("text", "template"):
            header += Markup("<em>%s</em> ") % label
        if self.reply_to_id:
            header += Markup("<em>%s</em> ") % self.env._(
                "(replying to: %(quote)s)", quote=(self.reply_to_id.body or "")[:60]
            )
        return Markup("%s%s") % (header, plaintext2html(self.body or ""))

    def _chatter_documents(self):
        """Where the message is shown: its conversation and its lead.

        Not on the contact, which every employee can read: the text stays under the
        record rules of conversations and leads.
        """
        self.ensure_one()
        return [record for record in (self.conversation_id, self.lead_id) if record]

    def _post_to_chatter(self):
        """Log the message once on each document; nobody gets an e-mail for it."""
        self.ensure_one()
        if self.direction == "in":
            author = self.partner_id
        else:
            author = self.author_user_id.partner_id or self.env.user.partner_id
        body = self._chatter_body()
        posts = self.env["mail.message"]
        for record in self._chatter_documents():
            post = record.sudo()._message_log(
                body=body,
                author_id=author.id,
                message_type="whatsapp_crm",
                partner_ids=self.partner_id.ids,
                attachment_ids=[fields.Command.link(a.id) for a in self.attachment_ids],
            )
            posts |= post
        posts.write({"whatsapp_crm_message_id": self.id})
        if self.direction == "out" and self.partner_id:
            self.env["mail.notification"].sudo().create([
                {
                    "mail_message_id": post.id,
                    "res_partner_id": self.partner_id.id,
                    "author_id": author.id,
                    "notification_type": "whatsapp_crm",
                    "is_read": True,  # nothing for the customer's Odoo inbox
                    **self._notification_values(),
                }
                for post in posts
            ])
        return posts

    def _notification_values(self):
        self.ensure_one()
        failed = self.state == "failed"
        return {
            "notification_status": NOTIFICATION_STATUS.get(self.state, "ready"),
            "failure_type": "whatsapp_crm_error" if failed else False,
            "failure_reason": self.error_message if failed else False,
        }

    def _chatter_state_changed(self):
        """Mirror the new states on the posts' notifications, in one statement, and tell
        the open chatters: one bus message per set of recipients, whatever the number of
        messages (a batch of statuses)."""
        outbound = self.filtered(lambda m: m.direction == "out")
        if not outbound:
            return
        Notification = self.env["mail.notification"]
        Notification.flush_model(["notification_status", "failure_type", "failure_reason"])
        rows = []
        for message in outbound:
            values = message._notification_values()
            rows.append((message.id, values["notification_status"],
                         values["failure_type"] or None, values["failure_reason"] or None))
        execute_values(self.env.cr._obj, """
            UPDATE mail_notification n
               SET notification_status = v.status, failure_type = v.failure_type,
                   failure_reason = v.failure_reason
              FROM mail_message post, (VALUES %s) AS v(message_id, status, failure_type,
                                                      failure_reason)
             WHERE post.whatsapp_crm_message_id = v.message_id
               AND n.mail_message_id = post.id AND n.notification_type = 'whatsapp_crm'
        """, rows)
        Notification.invalidate_model(["notification_status", "failure_type", "failure_reason"])
        posts_by_recipients = {}
        for conversation in outbound.conversation_id:
            recipients = conversation._inbox_recipients()
            posts = outbound.filtered(lambda m, c=conversation: m.conversation_id == c)
            key = tuple(sorted(recipients.ids))
            entry = posts_by_recipients.setdefault(key, [recipients, self.env["mail.message"]])
            entry[1] |= posts.mail_message_ids
        for recipients, posts in posts_by_recipients.values():
            if recipients and posts:
                posts.sudo()._whatsapp_crm_bus_send_state(recipients)
