import logging

from odoo import api, fields, models

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
MEDIA_TYPES = {"image", "video", "audio", "document", "sticker"}

# Statuses only move forward; `failed` is final unless the message was read.
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 2.5}
STATE_FIELDS = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "played": "read_at",
    "failed": "failed_at",
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
    reaction_emoji = fields.Char()
    reaction_to_wamid = fields.Char()
    interactive_reply_id = fields.Char(help="Id or payload of the tapped button or row.")
    referral = fields.Json(help="Click-to-WhatsApp ad that brought the customer.")
    payload = fields.Json(help="The message as Meta sent it.")
    mail_message_ids = fields.One2many("mail.message", "whatsapp_crm_message_id")

    _account_wamid_uniq = models.Constraint(
        "UNIQUE(account_id, wamid)", "A WhatsApp message can only be stored once."
    )

    @api.depends("body", "message_type")
    def _compute_display_name(self):
        types = dict(MESSAGE_TYPES)
        for message in self:
            text = (message.body or "").strip().splitlines()
            message.display_name = (text[0][:80] if text else "") or types.get(
                message.message_type, ""
            )

    # ------------------------------------------------------------------
    # Webhook dispatch
    # ------------------------------------------------------------------

    @api.model
    def _process_webhook_item(self, item, verified_account):
        """Apply one parsed webhook item. Returns False when it was not for us."""
        from ..lib import webhook

        account = self._account_for_item(item, verified_account)
        if not account:
            _logger.info(
                "WhatsApp item for phone number id %s skipped: not ours",
                getattr(item, "phone_number_id", None),
            )
            return False
        if isinstance(item, webhook.InboundMessage):
            return self._process_inbound(item, account)
        if isinstance(item, webhook.MessageStatus):
            return self._process_status(item, account)
        handler = {
            webhook.UserPreference: "_process_user_preference",
            webhook.AccountUpdate: "_process_account_update",
            webhook.PhoneNumberQualityUpdate: "_process_account_update",
            webhook.TemplateStatusUpdate: "_process_template_update",
            webhook.TemplateQualityUpdate: "_process_template_update",
            webhook.TemplateCategoryUpdate: "_process_template_update",
        }.get(type(item))
        if handler:
            return getattr(self, handler)(item, account)
        _logger.info("WhatsApp webhook item of an unhandled kind: %s", type(item).__name__)
        return False

    @api.model
    def _account_for_item(self, item, verified_account):
        phone_number_id = getattr(item, "phone_number_id", None)
        if not phone_number_id:
            # Account-level fields (templates, quality) carry only the WABA id.
            return verified_account if item.waba_id in (None, verified_account.waba_id) else None
        if phone_number_id == verified_account.phone_number_id:
            return verified_account
        account = self.env["whatsapp.crm.account"].sudo().search(
            [("phone_number_id", "=", phone_number_id)], limit=1
        )
        # Same WABA means the same Meta app signed it; anything else is not verified.
        if account and account.waba_id == verified_account.waba_id:
            return account
        return None

    @api.model
    def _process_user_preference(self, item, account):
        return self.env["res.partner"].sudo()._whatsapp_process_user_preference(item, account)

    @api.model
    def _process_account_update(self, item, account):
        from ..lib import webhook

        if isinstance(item, webhook.PhoneNumberQualityUpdate):
            account.messaging_limit = item.max_daily_conversations or item.current_limit
            account.quality_rating = item.event
        account.message_post(
            body=self.env._("Meta reported an account event: %(event)s", event=item.event)
        )
        return True

    @api.model
    def _process_template_update(self, item, account):
        return self.env["whatsapp.crm.template"].sudo()._process_meta_update(item, account)

    # ------------------------------------------------------------------
    # Statuses
    # ------------------------------------------------------------------

    @api.model
    def _process_status(self, item, account):
        if not item.wamid or not item.status:
            return False
        Status = self.env["whatsapp.crm.message.status"].sudo()
        status = Status._record(item, account)
        if not status:
            return True  # the same status arrived before
        message = self.search(
            [("account_id", "=", account.id), ("wamid", "=", item.wamid)], limit=1
        )
        if not message and item.biz_opaque_callback_data:
            message = self._from_callback_data(item.biz_opaque_callback_data, account)
            if message and not message.wamid:
                message.wamid = item.wamid
        if message:
            status.message_id = message
            message._apply_status(item.status, status.timestamp, status)
        return True

    @api.model
    def _from_callback_data(self, callback_data, account):
        prefix = f"{self._name}:"
        if not callback_data.startswith(prefix):
            return self.browse()
        try:
            message_id = int(callback_data[len(prefix) :])
        except ValueError:
            return self.browse()
        message = self.browse(message_id).exists()
        return message if message.account_id == account else self.browse()

    def _apply_status(self, status, timestamp, status_record=None):
        """Move the message forward; a late or repeated status never moves it back."""
        self.ensure_one()
        if status not in STATUS_RANK or self.direction != "out":
            return False
        values = {}
        date_field = STATE_FIELDS.get(status)
        if date_field and not self[date_field]:
            values[date_field] = timestamp
        current_rank = STATUS_RANK.get(self.state, 0)
        new_state = "read" if status == "played" else status
        if status == "failed":
            if self.state != "read":
                values.update(
                    state="failed",
                    error_code=status_record.error_code if status_record else 0,
                    error_message=status_record.error_message if status_record else False,
                )
        elif self.state != "failed" and STATUS_RANK[status] > current_rank:
            values["state"] = new_state
        if values:
            self.write(values)
            if "state" in values:
                self._refresh_chatter()
        return bool(values)

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
