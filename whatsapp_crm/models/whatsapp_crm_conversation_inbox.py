"""The team inbox: who is waiting for an answer, unread counters and live updates."""

from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError

# Messages shown in the conversation form; older ones stay in the Messages list.
THREAD_LIMIT = 200
INBOX_NOTIFICATION = "whatsapp_crm/conversation_updated"
CLOSING_SOON = timedelta(hours=2)


class WhatsappCrmConversation(models.Model):
    _inherit = "whatsapp.crm.conversation"

    waiting_reply = fields.Boolean(
        string="Waiting for Our Answer", readonly=True, index=True, copy=False,
        help="The customer's last message has not been answered yet.",
    )
    waiting_since = fields.Datetime(
        string="Unanswered Since", readonly=True, index="btree_not_null", copy=False,
        help="When the oldest unanswered customer message arrived.",
    )
    unread_count = fields.Integer(
        string="Unread Messages", readonly=True, copy=False,
        help="Customer messages the assigned agent has not opened yet.",
    )
    reply_body = fields.Text(
        string="Reply", copy=False, help="Draft of the next WhatsApp message to the customer."
    )
    reply_canned_reply_id = fields.Many2one(
        "whatsapp.crm.canned.reply", string="Canned Reply", store=False,
        help="Fills the reply with this text, its variables resolved for this customer.",
    )
    window_closing_soon = fields.Boolean(
        compute="_compute_window_closing_soon", search="_search_window_closing_soon",
        help="The 24-hour window closes within 2 hours.",
    )
    thread_html = fields.Html(
        string="Thread", compute="_compute_thread_html", sanitize=False,
        help="The latest WhatsApp messages of the conversation, oldest first.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("team_id") and vals.get("account_id"):
                account = self.env["whatsapp.crm.account"].sudo().browse(vals["account_id"])
                vals["team_id"] = account.team_id.id
        return super().create(vals_list)

    def write(self, vals):
        previous = {conversation: conversation.user_id for conversation in self}
        result = super().write(vals)
        if "user_id" in vals:
            for conversation in self:
                if conversation.user_id != previous[conversation]:
                    conversation._notify_inbox("assigned", extra_users=previous[conversation])
        return result

    @api.depends("window_expires_at")
    @api.depends_context("uid")
    def _compute_window_closing_soon(self):
        now = fields.Datetime.now()
        for conversation in self:
            expires = conversation.window_expires_at
            conversation.window_closing_soon = bool(expires and now < expires <= now + CLOSING_SOON)

    def _search_window_closing_soon(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        now = fields.Datetime.now()
        closing = ["&", ("window_expires_at", ">", now),
                   ("window_expires_at", "<=", now + CLOSING_SOON)]
        if (True in value) == (operator == "in"):
            return closing
        return ["!", *closing]

    @api.depends("whatsapp_message_ids.body", "whatsapp_message_ids.state")
    def _compute_thread_html(self):
        Message = self.env["whatsapp.crm.message"]
        for conversation in self:
            if not conversation.id:
                conversation.thread_html = False
                continue
            messages = Message.search(
                [("conversation_id", "=", conversation.id)],
                order="timestamp desc, id desc", limit=THREAD_LIMIT,
            )
            # _chatter_body escapes the customer's text; Markup keeps ours.
            bubbles = Markup().join(
                Markup('<div class="o_whatsapp_crm_bubble_row %s">'
                       '<div class="o_whatsapp_crm_bubble">%s'
                       '<div class="o_whatsapp_crm_time text-muted small">%s</div>'
                       "</div></div>") % (
                    "o_whatsapp_crm_row_in" if message.direction == "in"
                    else "o_whatsapp_crm_row_out",
                    message._chatter_body(),
                    fields.Datetime.context_timestamp(message, message.timestamp).strftime(
                        "%Y-%m-%d %H:%M") if message.timestamp else "",
                )
                for message in reversed(messages)
            )
            conversation.thread_html = Markup(
                '<div class="o_whatsapp_crm_thread">%s</div>') % bubbles

    @api.onchange("reply_canned_reply_id")
    def _onchange_reply_canned_reply_id(self):
        if self.reply_canned_reply_id:
            self.reply_body = self.reply_canned_reply_id._render_for(self)

    # ------------------------------------------------------------------
    # Waiting and unread, maintained as messages are stored
    # ------------------------------------------------------------------

    def _register_inbox_messages(self, messages):
        """Update waiting/unread from new messages of this conversation, oldest first."""
        self.ensure_one()
        values = {}
        for message in messages.sorted(lambda m: (m.timestamp or fields.Datetime.now(), m.id)):
            if message.direction == "in":
                if message.message_type == "system":
                    continue
                if not values.get("waiting_reply", self.waiting_reply):
                    values["waiting_since"] = message.timestamp or fields.Datetime.now()
                values["waiting_reply"] = True
                values["unread_count"] = values.get("unread_count", self.unread_count) + 1
            elif message._is_agent_answer():
                values.update(waiting_reply=False, waiting_since=False, unread_count=0)
                if self.state == "new":
                    values["state"] = "open"
        if values:
            self.sudo().write(values)

    def action_mark_read(self):
        self.sudo().write({"unread_count": 0})
        for conversation in self:
            conversation._notify_inbox("read")

    def _reset_unread_after_commit(self):
        ids, uid = self.ids, self.env.uid
        registry = self.env.registry

        def reset():
            with registry.cursor() as cr:
                env = api.Environment(cr, uid, {})
                env[self._name].browse(ids).exists().action_mark_read()

        self.env.cr.postcommit.add(reset)

    @api.readonly
    def web_read(self, specification):
        result = super().web_read(specification)
        # Opening the conversation reads it; readonly request, so reset after commit.
        if len(self) == 1 and self.unread_count and self.user_id == self.env.user:
            self._reset_unread_after_commit()
        return result

    # ------------------------------------------------------------------
    # Reply from the form
    # ------------------------------------------------------------------

    def action_send_reply(self):
        """Send the draft reply with the composer's logic, then clear it."""
        self.ensure_one()
        if not (self.reply_body or "").strip():
            raise UserError(self.env._("Write a reply first."))
        composer = self.env["whatsapp.crm.composer"].create({
            "res_model": self._name,
            "res_ids": self.ids,
            "account_id": self.account_id.id,
            "body": self.reply_body,
        })
        if composer.use_template:
            raise UserError(self.env._(
                "The 24-hour window is closed: send an approved template with the Reply button."
            ))
        composer._send_to(self, self)
        self.reply_body = False
        return True

    # ------------------------------------------------------------------
    # Bus
    # ------------------------------------------------------------------

    def _inbox_recipients(self, extra_users=None):
        """Partners to tell: the assignee, else the team's members; the lead's salesperson."""
        self.ensure_one()
        users = self.user_id | self.lead_id.user_id | (extra_users or self.env["res.users"])
        if not self.user_id:
            team = self.team_id or self.account_id.team_id
            users |= team.member_ids | team.user_id
        return users.filtered(lambda u: u.active and not u.share).partner_id

    def _inbox_payload(self, event):
        self.ensure_one()
        return {
            "id": self.id,
            "event": event,
            "lead_id": self.lead_id.id,
            "partner_id": self.partner_id.id,
            "user_id": self.user_id.id,
            "state": self.state,
            "unread_count": self.unread_count,
            "waiting_reply": self.waiting_reply,
        }

    def _notify_inbox(self, event, extra_users=None):
        """Tell the open inbox views and chatters that this conversation changed."""
        Bus = self.env["bus.bus"].sudo()
        for conversation in self.sudo():
            payload = conversation._inbox_payload(event)
            for partner in conversation._inbox_recipients(extra_users):
                Bus._sendone(partner, INBOX_NOTIFICATION, payload)

    @api.model
    def get_inbox_unread_count(self):
        """Unread customer messages of the current user's conversations (systray badge)."""
        groups = self._read_group(
            [("user_id", "=", self.env.uid), ("unread_count", ">", 0)], [],
            ["unread_count:sum"],
        )
        return groups[0][0] or 0 if groups else 0


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        for conversation in messages.conversation_id:
            conversation._register_inbox_messages(
                messages.filtered(lambda m, c=conversation: m.conversation_id == c)
            )
        return messages

    def _is_agent_answer(self):
        """Outbound written by a person: automatic messages do not answer the customer."""
        self.ensure_one()
        author = self.author_user_id
        return bool(author) and author.id != SUPERUSER_ID and not author.share

    def _notify_chatter_update(self):
        """Open chatters and inbox views of the conversation reload its messages."""
        self.conversation_id._notify_inbox("message")
