import logging
import mimetypes
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.mimetypes import guess_mimetype

from ..lib import errors as api_errors
from ..lib import phone
from .whatsapp_crm_message import MEDIA_TYPES, MESSAGE_TYPES

_logger = logging.getLogger(__name__)

KNOWN_TYPES = {code for code, _label in MESSAGE_TYPES}
# What Meta accepts per media type (cloud_api.md §4); the bytes must agree.
ALLOWED_MIME_PREFIXES = {
    "image": ("image/jpeg", "image/png", "image/webp"),
    "sticker": ("image/webp", "image/png"),
    "audio": ("audio/", "video/mp4", "application/ogg"),
    "video": ("video/mp4", "video/3gpp", "video/3gp"),
    "document": ("application/", "text/plain", "text/csv", "image/"),
}
FORBIDDEN_MIME_TYPES = {
    "application/x-msdownload",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-sh",
    "application/javascript",
    "text/html",
    "image/svg+xml",
}
MEDIA_ATTEMPTS = 5
WINDOW = timedelta(hours=24)


def _base_mime(mime_type):
    return (mime_type or "").split(";")[0].strip().lower()


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    @api.model
    def _process_inbound(self, item, account):
        """Store a customer's message once, on its partner, conversation and lead."""
        if not item.wamid:
            raise ValueError("Inbound message without an id")
        if self.search_count([("account_id", "=", account.id), ("wamid", "=", item.wamid)]):
            return True  # a duplicate delivery or a re-batched payload
        sender = item.from_wa_id or item.from_user_id
        if not sender:
            raise ValueError(f"Inbound message {item.wamid} has no sender")
        conversation = self.env["whatsapp.crm.conversation"].sudo()._find_or_create(
            account, sender, item.profile_name
        )
        message = self.create(self._inbound_values(item, account, conversation))
        conversation._metrics_on_message(message)
        conversation._register_inbound(message.timestamp)
        if account.create_lead and conversation.partner_id:
            conversation._ensure_lead(referral=item.referral and item.raw.get("referral"))
        message.lead_id = conversation.lead_id
        if message.media_id:
            message._fetch_media()
        message._post_inbound_to_chatter()
        message._apply_consent_keywords()
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

    # ------------------------------------------------------------------
    # Media
    # ------------------------------------------------------------------

    def _fetch_media(self):
        """Download the media into an attachment; failures are kept for a retry."""
        for message in self.filtered(lambda m: m.media_state == "pending"):
            account = message.account_id
            try:
                info, content = account._get_client().fetch_media(
                    message.media_id, max_bytes=account.media_max_bytes
                )
                mime_type = message._check_media_mime(info.mime_type or message.media_mime_type,
                                                      content)
            except api_errors.CloudApiError as error:
                message._media_failed(str(error), retry=error.retryable)
                continue
            except ValueError as error:
                message._media_failed(str(error), retry=False)
                continue
            attachment = self.env["ir.attachment"].sudo().create(
                {
                    "name": message._media_file_name(mime_type),
                    "raw": content,
                    "mimetype": mime_type,
                    "res_model": message._name,
                    "res_id": message.id,
                }
            )
            message.write(
                {
                    "attachment_ids": [fields.Command.link(attachment.id)],
                    "media_state": "done",
                    "media_error": False,
                    "media_mime_type": mime_type,
                }
            )

    def _media_failed(self, reason, retry):
        self.ensure_one()
        attempts = self.media_attempts + 1
        self.write(
            {
                "media_attempts": attempts,
                "media_error": reason[:250],
                "media_state": "pending" if retry and attempts < MEDIA_ATTEMPTS else "failed",
            }
        )
        _logger.warning("WhatsApp media of message %s not downloaded: %s", self.id, reason)

    def _check_media_mime(self, declared, content):
        """The declared type must be allowed for the message type and match the bytes."""
        declared = _base_mime(declared)
        sniffed = _base_mime(guess_mimetype(content, default="application/octet-stream"))
        allowed = ALLOWED_MIME_PREFIXES.get(self.message_type, ())
        if not declared.startswith(allowed):
            raise ValueError(f"MIME type {declared or 'unknown'} refused for {self.message_type}")
        if sniffed in FORBIDDEN_MIME_TYPES or declared in FORBIDDEN_MIME_TYPES:
            raise ValueError(f"MIME type {sniffed} refused")
        family = declared.split("/")[0]
        sniffed_family = sniffed.split("/")[0]
        if (
            family in ("image", "video")
            and sniffed != "application/octet-stream"
            and sniffed_family != family
        ):
            raise ValueError(f"content is {sniffed}, not {declared}")
        return declared

    def _media_file_name(self, mime_type):
        if self.media_filename:
            return self.media_filename
        extension = mimetypes.guess_extension(mime_type) or ""
        return f"whatsapp-{self.message_type}-{self.id}{extension}"

    @api.model
    def _cron_fetch_pending_media(self, limit=50):
        # Meta keeps inbound media for 7 days; older ids cannot be fetched anymore.
        since = fields.Datetime.now() - timedelta(days=7)
        pending = self.search(
            [("media_state", "=", "pending"), ("timestamp", ">=", since)], limit=limit
        )
        for message in pending:
            message._fetch_media()
            self.env["ir.cron"]._commit_progress(1)

class WhatsappCrmConversationInbound(models.Model):
    _inherit = "whatsapp.crm.conversation"

    @api.model
    def _find_or_create(self, account, sender, profile_name):
        variants = phone.wa_id_variants(sender) if sender.isdigit() else [sender]
        conversation = self.search(
            [("account_id", "=", account.id), ("wa_id", "in", variants)], limit=1
        )
        if conversation:
            if profile_name and conversation.profile_name != profile_name:
                conversation.profile_name = profile_name
            return conversation
        partner = self.env["res.partner"].sudo()._whatsapp_find_or_create(
            sender, profile_name, account
        )
        # UNIQUE(account_id, wa_id): a concurrent first message makes this insert
        # fail, and the event is replayed in a fresh transaction that finds it.
        return self.create(
            {
                "account_id": account.id,
                "wa_id": sender,
                "partner_id": partner.id,
                "profile_name": profile_name,
                "state": "new",
            }
        )

    def _register_inbound(self, timestamp):
        self.ensure_one()
        values = {"last_message_at": max(timestamp, self.last_message_at or timestamp)}
        if not self.last_inbound_at or timestamp > self.last_inbound_at:
            values.update(last_inbound_at=timestamp, window_expires_at=timestamp + WINDOW)
        # A first customer message or a resolved conversation coming back is (re)routed.
        route = not self.last_inbound_at or self.state == "resolved"
        if self.state in ("resolved", "pending"):
            values["state"] = "open"
        self.write(values)
        if route:
            self._route()

    def _ensure_lead(self, referral=None):
        """Link the customer's open lead, or create one for this conversation."""
        self.ensure_one()
        Lead = self.env["crm.lead"].sudo()
        lead = self.lead_id
        if not lead or not lead.active or lead.won_status != "pending":
            lead = Lead._whatsapp_open_lead_for(self.partner_id, self.account_id)
        if not lead:
            lead = Lead._whatsapp_create_from_conversation(self, referral)
        elif referral and not lead.whatsapp_referral:
            lead._whatsapp_set_referral(referral)
        if self.lead_id != lead:
            # The assignee was chosen by `_route`, which looks at this lead already.
            self.lead_id = lead
        return lead
