from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from ..lib import interactive, outbound, phone

MEDIA_TYPE_BY_FAMILY = {"image": "image", "video": "video", "audio": "audio"}


class WhatsappCrmComposer(models.TransientModel):
    """Free-form WhatsApp messages from a lead, a contact or a conversation."""

    _name = "whatsapp.crm.composer"
    _description = "Send a WhatsApp Message"

    res_model = fields.Char(required=True)
    res_ids = fields.Json(required=True)
    account_id = fields.Many2one(
        "whatsapp.crm.account",
        required=True,
        default=lambda self: self.env["whatsapp.crm.account"].search(
            [("company_id", "in", self.env.companies.ids)], limit=1
        ),
    )
    conversation_id = fields.Many2one(
        "whatsapp.crm.conversation", compute="_compute_conversation_id"
    )
    colleague_user_id = fields.Many2one(
        "res.users", string="Handled By", compute="_compute_conversation_id",
        help="The colleague whose conversation with this customer you cannot write in.",
    )
    recipient_count = fields.Integer(compute="_compute_conversation_id")
    window_open = fields.Boolean(related="conversation_id.window_open")
    window_expires_at = fields.Datetime(related="conversation_id.window_expires_at")
    body = fields.Text()
    attachment_ids = fields.Many2many("ir.attachment", string="Files")
    reply_to_id = fields.Many2one(
        "whatsapp.crm.message",
        domain="[('conversation_id', '=', conversation_id), ('direction', '=', 'in')]",
    )
    use_template = fields.Boolean(
        compute="_compute_use_template", store=True, readonly=False,
        help="Outside the 24-hour window, only approved templates can be sent.",
    )
    template_id = fields.Many2one(
        "whatsapp.crm.template",
        domain="[('account_id', '=', account_id), ('status', '=', 'approved')]",
    )
    template_preview = fields.Text(compute="_compute_template_preview")
    interactive_kind = fields.Selection(
        [("none", "Plain Message"), ("buttons", "Reply Buttons"), ("list", "List")],
        string="Answers", default="none", required=True,
        help="Let the customer answer with a tap; the answer is stored on the message.",
    )
    button_titles = fields.Text(help="One button per line, at most 3, 20 characters each.")
    list_button = fields.Char(string="List Button Label")
    list_rows = fields.Text(help="One row per line: title | optional description (10 rows).")
    canned_reply_id = fields.Many2one(
        "whatsapp.crm.canned.reply",
        help="Fills the message with this text, its variables resolved for the recipient.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if "res_model" in fields_list and not values.get("res_model"):
            values["res_model"] = context.get("active_model")
        if "res_ids" in fields_list and not values.get("res_ids"):
            values["res_ids"] = context.get("active_ids") or (
                [context["active_id"]] if context.get("active_id") else []
            )
        if "account_id" in fields_list and not context.get("default_account_id") \
                and values.get("res_model") and len(values.get("res_ids") or []) == 1:
            # Answer on the line the customer wrote to, when there is one.
            record = self.env[values["res_model"]].browse(values["res_ids"]).exists()
            account = self._account_of_last_conversation(record) if record else None
            if account:
                values["account_id"] = account.id
        return values

    def _account_of_last_conversation(self, record):
        if record._name == "whatsapp.crm.conversation":
            return record.account_id
        domains = []
        if record._name == "crm.lead":
            domains.append(Domain("lead_id", "=", record.id))
        partner = self._partner_of(record)
        if partner:
            domains.append(Domain("partner_id", "child_of", partner.commercial_partner_id.id))
        if not domains:
            return None
        return self.env["whatsapp.crm.conversation"].search(
            Domain.OR(domains) & Domain("account_id.active", "=", True),
            order="last_inbound_at desc", limit=1,
        ).account_id

    @api.onchange("canned_reply_id")
    def _onchange_canned_reply_id(self):
        if self.canned_reply_id:
            self.body = self.canned_reply_id._render_for(self._records()[:1])

    @api.depends("res_model", "res_ids", "account_id")
    def _compute_conversation_id(self):
        Conversation = self.env["whatsapp.crm.conversation"]
        for composer in self:
            records = composer._records()
            composer.recipient_count = len(records)
            found = composer._customer_conversation(records) if len(records) == 1 \
                else Conversation
            mine = found and found.with_env(self.env).has_access("read")
            composer.conversation_id = found.with_env(self.env) if mine else False
            composer.colleague_user_id = found.user_id if found and not mine else False

    @api.depends("conversation_id", "recipient_count")
    def _compute_use_template(self):
        for composer in self:
            composer.use_template = composer.recipient_count != 1 or not composer.window_open

    @api.depends("template_id", "res_ids")
    def _compute_template_preview(self):
        for composer in self:
            records = composer._records()
            composer.template_preview = False
            if composer.template_id and len(records) == 1:
                target = composer._template_target(records, composer.template_id)
                try:
                    composer.template_preview = composer.template_id._preview(target)
                except UserError as error:
                    composer.template_preview = str(error)

    def _template_target(self, record, template):
        """The record whose fields fill the template: itself, or its lead or contact."""
        if not template.model or record._name == template.model:
            return record
        conversation = self._customer_conversation(record).with_env(self.env)
        if conversation and not conversation.has_access("read"):
            conversation = conversation.browse()  # a colleague's: refused when sending
        for candidate in (conversation.lead_id, conversation.partner_id,
                          getattr(record, "partner_id", None)):
            if candidate and candidate._name == template.model:
                return candidate
        return record

    def _records(self):
        if not self.res_model or not self.res_ids:
            return self.env["res.partner"]
        return self.env[self.res_model].browse(self.res_ids).exists()

    def _customer_conversation(self, record):
        """The account's conversation with the record's customer, whoever handles it (sudo).

        Looked up like an inbound message does: the lead's own conversation, else the
        contact's, else by every form of the record's phone number.
        """
        Conversation = self.env["whatsapp.crm.conversation"].sudo()
        if record._name == "whatsapp.crm.conversation":
            return record.sudo()
        domain = [("account_id", "=", self.account_id.id)]
        if record._name == "crm.lead":
            conversation = Conversation.search(domain + [("lead_id", "=", record.id)], limit=1)
            if conversation:
                return conversation
        partner = self._partner_of(record)
        if partner:
            conversation = Conversation.search(
                domain + [("partner_id", "child_of", partner.commercial_partner_id.id)],
                order="last_inbound_at desc",
                limit=1,
            )
            if conversation:
                return conversation
        wa_id = self._wa_id_of(record, raise_if_invalid=False)
        return Conversation._find_for_sender(self.account_id, wa_id) if wa_id else Conversation

    @staticmethod
    def _partner_of(record):
        """The contact behind any record with a phone number: itself, or its partner_id."""
        if record._name == "res.partner":
            return record
        partner = record["partner_id"] if "partner_id" in record._fields else None
        return partner if partner and partner._name == "res.partner" else None

    def _wa_id_of(self, record, raise_if_invalid=True):
        partner = self._partner_of(record)
        number = (record["phone"] if "phone" in record._fields else None) or (
            partner.phone if partner else None
        )
        country_record = record["country_id"] if "country_id" in record._fields else None
        country = (
            country_record or (partner and partner.country_id) or self.env.company.country_id
        ).code
        try:
            return phone.to_wa_id(number or "", country)
        except phone.InvalidPhoneNumber:
            if not raise_if_invalid:
                return None
            raise UserError(self.env._(
                "%(record)s has no valid phone number for WhatsApp.",
                record=record.display_name,
            )) from None

    def _conversation_for(self, record):
        """The record's conversation, or a new one from its phone number.

        A conversation that a colleague handles is refused before anything is
        created: the salesperson can ask them for a transfer instead.
        """
        conversation = self._customer_conversation(record)
        if conversation:
            if not conversation.with_env(self.env).has_access("read"):
                raise UserError(self._colleague_refusal(conversation))
            return conversation.with_env(self.env)
        partner = self._partner_of(record)
        # A contact known only by their BSUID (a username, no number) is written to there.
        bsuid = partner.commercial_partner_id.whatsapp_bsuid if partner else False
        wa_id = self._wa_id_of(record, raise_if_invalid=not bsuid)
        if not partner:
            raise UserError(self.env._(
                "%(record)s has no contact to write to.", record=record.display_name
            ))
        return self.env["whatsapp.crm.conversation"].sudo()._create_for_sender(
            self.account_id, wa_id, bsuid=None if wa_id else bsuid, partner=partner,
            lead=record if record._name == "crm.lead" else None,
        ).with_env(self.env)

    def _colleague_refusal(self, conversation):
        holder = conversation.user_id.name or conversation.team_id.name or self.env._(
            "another team")
        return self.env._(
            "%(holder)s handles the WhatsApp conversation with %(customer)s: you cannot "
            "write in it. Use “Ask for a transfer” to ask %(holder)s to hand it over.",
            holder=holder, customer=conversation.name,
        )

    def action_request_transfer(self):
        """Ask the colleague who handles the conversation to transfer it (an activity)."""
        self.ensure_one()
        records = self._records()
        conversation = self._customer_conversation(records[:1]) if len(records) == 1 else False
        if not conversation or conversation.with_env(self.env).has_access("read"):
            raise UserError(self.env._("There is no colleague's conversation to ask for."))
        holder = conversation.user_id or conversation.team_id.user_id
        if not holder:
            raise UserError(self._colleague_refusal(conversation))
        conversation.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("WhatsApp transfer requested by %(user)s", user=self.env.user.name),
            note=self.env._(
                "%(user)s would like to write to %(customer)s: transfer the conversation "
                "to them if you agree.", user=self.env.user.name, customer=conversation.name,
            ),
            user_id=holder.id,
        )
        return True

    def action_send(self):
        self.ensure_one()
        if self.use_template and not self.template_id:
            raise UserError(self.env._("Choose an approved template."))
        if not self.use_template and not (self.body or "").strip() and not self.attachment_ids:
            raise UserError(self.env._("Write a message or attach a file."))
        records = self._records()
        if len(records) == 1:
            self._send_to(self._conversation_for(records), records)
            return {"type": "ir.actions.act_window_close"}
        # Several recipients: one who can't be reached must not stop the others.
        skipped = []
        for record in records:
            try:
                with self.env.cr.savepoint():
                    self._send_to(self._conversation_for(record), record)
            except UserError as error:
                skipped.append(f"{record.display_name}: {error.args[0]}")
        if not skipped:
            return {"type": "ir.actions.act_window_close"}
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._(
                    "%(sent)s of %(total)s WhatsApp messages queued",
                    sent=len(records) - len(skipped), total=len(records),
                ),
                "message": "\n".join(skipped),
                "type": "warning",
                "sticky": True,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _send_template(self, conversation, record):
        template = self.template_id
        template._check_sendable(conversation.partner_id)
        target = self._template_target(record, template)
        header_media = {} if template.header_type in ("image", "video", "document") else None
        if header_media is not None and not self.attachment_ids:
            raise UserError(self.env._(
                "The template %(name)s needs a file for its header: attach one.",
                name=template.display_name,
            ))
        return self.env["whatsapp.crm.message"]._queue_outbound(
            conversation,
            outbound.template(
                template.name, template.language,
                template._send_components(target, header_media=header_media),
            ),
            message_type="template",
            body=template._preview(target),
            attachments=self.attachment_ids[:1] if header_media is not None else None,
            template=template,
        )

    def _send_to(self, conversation, record=None):
        if self.use_template:
            return self._send_template(conversation, record or conversation)
        Message = self.env["whatsapp.crm.message"]
        reply_to = self.reply_to_id if self.reply_to_id.conversation_id == conversation else None
        if not self.attachment_ids and self.interactive_kind != "none":
            return self._send_interactive(conversation, reply_to)
        if not self.attachment_ids:
            return Message._queue_outbound(
                conversation, self._built(outbound.text, self.body, preview_url=True),
                message_type="text", body=self.body, reply_to=reply_to,
            )
        messages = Message
        caption = self.body
        for attachment in self.attachment_ids:
            media_type = self._media_type(attachment)
            with_caption = bool(caption) and media_type in outbound.CAPTION_MEDIA_TYPES
            messages |= Message._queue_outbound(
                conversation,
                self._built(
                    outbound.media, media_type,
                    caption=caption if with_caption else None,
                    filename=attachment.name if media_type == "document" else None,
                    voice=media_type == "audio" and "ogg" in (attachment.mimetype or ""),
                ),
                message_type=media_type,
                body=caption if with_caption else attachment.name,
                attachments=attachment,
                reply_to=reply_to,
            )
            if with_caption:
                caption = ""  # the text goes with the first file that can carry it
            reply_to = None
        if caption:
            messages |= Message._queue_outbound(
                conversation, self._built(outbound.text, caption),
                message_type="text", body=caption,
            )
        return messages

    def _send_interactive(self, conversation, reply_to):
        try:
            if self.interactive_kind == "buttons":
                options = [t for t in (self.button_titles or "").splitlines() if t.strip()]
                built = interactive.reply_buttons(self.body, options)
            else:
                rows = interactive.parse_rows(self.list_rows)
                options = [title for title, _description in rows]
                built = interactive.list_message(self.body, self.list_button, rows)
        except ValueError as error:
            raise UserError(self.env._("This interactive message cannot be sent: %(reason)s",
                                       reason=error)) from error
        summary = "\n".join([self.body or "", *(f"[{option.strip()}]" for option in options)])
        return self.env["whatsapp.crm.message"]._queue_outbound(
            conversation, outbound.interactive(built),
            message_type="interactive", body=summary, reply_to=reply_to,
        )

    def _built(self, builder, *args, **kwargs):
        """A message object from ``lib/outbound``; its refusal in the user's words."""
        try:
            return builder(*args, **kwargs)
        except ValueError as error:
            raise UserError(self.env._("This WhatsApp message cannot be sent: %(reason)s",
                                       reason=error)) from error

    @staticmethod
    def _media_type(attachment):
        family = (attachment.mimetype or "").split("/")[0]
        return MEDIA_TYPE_BY_FAMILY.get(family, "document")
