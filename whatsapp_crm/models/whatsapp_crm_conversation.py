"""One thread per customer and WhatsApp account: window, inbox state, routing, figures.

A conversation lives in cycles: a customer message on a new or resolved conversation
starts one (``first_inbound_at``); the first reply of the business answers it
(``first_response_at``); resolving it closes it (``resolved_at``). Times are counted in
business minutes of the team's WhatsApp calendar, else of the company's calendar.
Figures that do not apply stay NULL in the database, so that averages ignore them.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..lib import csat, interactive, metrics, outbound, phone, routing
from ..lib import errors as api_errors

_logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
CLOSING_SOON = timedelta(hours=2)
OPEN_STATES = ("new", "open", "pending")
AWAY_INTERVAL = timedelta(hours=12)
# Messages the conversation's thread shows; older ones stay in the Messages list.
THREAD_LIMIT = 200
INBOX_NOTIFICATION = "whatsapp_crm/conversation_updated"


class WhatsappCrmConversation(models.Model):
    _name = "whatsapp.crm.conversation"
    _description = "WhatsApp Conversation"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "last_message_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "whatsapp.crm.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    wa_id = fields.Char(
        string="WhatsApp ID",
        help="The customer's WhatsApp number (digits); empty while they withhold it.",
    )
    bsuid = fields.Char(
        string="Business-Scoped User ID",
        copy=False,
        help="The id WhatsApp gives this customer for our business portfolio. It is the "
        "only one of a customer who uses a username and withholds the number.",
    )
    username = fields.Char(string="WhatsApp Username", copy=False)
    profile_name = fields.Char(help="Name the customer set in WhatsApp.")
    partner_id = fields.Many2one("res.partner", string="Contact", index=True, tracking=True)
    lead_id = fields.Many2one(
        "crm.lead", index="btree_not_null", tracking=True, ondelete="set null"
    )
    user_id = fields.Many2one(
        "res.users", string="Assigned To", index="btree_not_null", tracking=True
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", index="btree_not_null")
    state = fields.Selection(
        [
            ("new", "New"),
            ("open", "Open"),
            ("pending", "Pending Customer"),
            ("resolved", "Resolved"),
        ],
        default="new",
        required=True,
        index=True,
        tracking=True,
    )
    last_inbound_at = fields.Datetime(string="Last Customer Message", readonly=True)
    last_message_at = fields.Datetime(readonly=True, index=True)
    window_expires_at = fields.Datetime(
        string="Window Closes At",
        readonly=True,
        help="Free-form messages are allowed until 24 hours after the customer's last message.",
    )
    window_open = fields.Boolean(compute="_compute_window_open", search="_search_window_open")
    window_closing_soon = fields.Boolean(
        compute="_compute_window_closing_soon", search="_search_window_closing_soon",
        help="The 24-hour window closes within 2 hours.",
    )
    whatsapp_message_ids = fields.One2many(
        "whatsapp.crm.message", "conversation_id", string="WhatsApp Messages"
    )
    wa_message_count = fields.Integer(compute="_compute_wa_message_count")
    # Inbox
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
    draft_ids = fields.One2many("whatsapp.crm.conversation.draft", "conversation_id")
    reply_body = fields.Text(
        string="Reply", compute="_compute_reply_body", inverse="_inverse_reply_body",
        help="Your draft of the next WhatsApp message to the customer (each agent has "
        "their own).",
    )
    reply_canned_reply_id = fields.Many2one(
        "whatsapp.crm.canned.reply", string="Canned Reply", store=False,
        help="Fills the reply with this text, its variables resolved for this customer.",
    )
    away_message_sent_at = fields.Datetime(readonly=True, copy=False)
    # Figures for the reports
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
    lead_won = fields.Boolean(compute="_compute_lead_won", store=True, aggregator="bool_or")
    # Satisfaction survey
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

    # A conversation is keyed by the number when it is known, else by the BSUID.
    _account_wa_id_uniq = models.Constraint(
        "UNIQUE(account_id, wa_id)", "There is one conversation per customer and account."
    )
    _account_bsuid_uniq = models.Constraint(
        "UNIQUE(account_id, bsuid)", "There is one conversation per customer and account."
    )
    _customer_known = models.Constraint(
        "CHECK(wa_id IS NOT NULL OR bsuid IS NOT NULL)",
        "A conversation needs the customer's number or business-scoped user id.",
    )
    _company_first_inbound_idx = models.Index("(company_id, first_inbound_at)")
    _company_resolved_idx = models.Index("(company_id, resolved_at) WHERE resolved_at IS NOT NULL")
    _user_state_idx = models.Index("(user_id, state)")
    _csat_idx = models.Index("(company_id, resolved_at, csat_score) WHERE csat_score IS NOT NULL")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("partner_id.name", "profile_name", "wa_id", "username", "bsuid")
    def _compute_name(self):
        for conversation in self:
            who = conversation.partner_id.name or conversation.profile_name
            number = f"+{conversation.wa_id}" if conversation.wa_id else ""
            address = number or conversation.username or conversation.bsuid
            conversation.name = " ".join(part for part in (who, address) if part) or "?"

    @api.depends("window_expires_at")
    @api.depends_context("uid")
    def _compute_window_open(self):
        now = fields.Datetime.now()
        for conversation in self:
            conversation.window_open = bool(
                conversation.window_expires_at and conversation.window_expires_at > now
            )

    def _search_window_open(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        now = fields.Datetime.now()
        wants_open = (True in value) == (operator == "in")
        if wants_open:
            return [("window_expires_at", ">", now)]
        return ["|", ("window_expires_at", "=", False), ("window_expires_at", "<=", now)]

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

    def _compute_wa_message_count(self):
        counts = dict(
            self.env["whatsapp.crm.message"]._read_group(
                [("conversation_id", "in", self.ids)], ["conversation_id"], ["__count"]
            )
        )
        for conversation in self:
            conversation.wa_message_count = counts.get(conversation, 0)

    @api.depends("draft_ids.body", "draft_ids.user_id")
    @api.depends_context("uid")
    def _compute_reply_body(self):
        drafts = {
            draft.conversation_id: draft.body
            for draft in self.env["whatsapp.crm.conversation.draft"].sudo().search(
                [("conversation_id", "in", self.ids), ("user_id", "=", self.env.uid)]
            )
        }
        for conversation in self:
            conversation.reply_body = drafts.get(conversation, False)

    def _inverse_reply_body(self):
        Draft = self.env["whatsapp.crm.conversation.draft"].sudo()
        for conversation in self:
            Draft._store(conversation, self.env.user, conversation.reply_body)

    @api.depends("lead_id.won_status")
    def _compute_lead_won(self):
        for conversation in self:
            conversation.lead_won = conversation.lead_id.won_status == "won"

    @api.depends("state", "csat_request_id", "csat_message_id")
    def _compute_csat_awaiting(self):
        for conversation in self:
            conversation.csat_awaiting = bool(
                conversation.state == "resolved"
                and conversation.csat_request_id
                and not conversation.csat_message_id
            )

    @api.onchange("reply_canned_reply_id")
    def _onchange_reply_canned_reply_id(self):
        if self.reply_canned_reply_id:
            self.reply_body = self.reply_canned_reply_id._render_for(self)

    def _window_summary(self):
        """Values of the WhatsApp stat button of a contact or lead owning these conversations."""
        now = fields.Datetime.now()
        expiries = [expiry for expiry in self.mapped("window_expires_at") if expiry]
        expiry = max(expiries) if expiries else False
        state = "open" if expiry and expiry > now else "closed"
        return {
            "whatsapp_conversation_count": len(self),
            "whatsapp_window_expires_at": expiry,
            "whatsapp_window_state": state if self else "none",
        }

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("team_id") and vals.get("account_id"):
                account = self.env["whatsapp.crm.account"].sudo().browse(vals["account_id"])
                vals["team_id"] = account.team_id.id
        return super().create(vals_list)

    def write(self, vals):
        previous_users = {conversation: conversation.user_id for conversation in self}
        resolving = reopening = self.browse()
        if vals.get("state") == "resolved":
            resolving = self.filtered(lambda c: c.state != "resolved")
        elif vals.get("state"):
            reopening = self.filtered(lambda c: c.state == "resolved")
        result = super().write(vals)
        if resolving:
            resolving._on_resolved()
        if reopening:
            reopening._set_null(["resolved_at", "resolution_minutes"])
        self._assign_cycle_messages(vals)
        if "user_id" in vals:
            for conversation in self:
                if conversation.user_id != previous_users[conversation]:
                    conversation._notify_inbox(
                        "assigned", extra_users=previous_users[conversation]
                    )
        return result

    # ------------------------------------------------------------------
    # Finding the customer's conversation (inbound and composer alike)
    # ------------------------------------------------------------------

    @api.model
    def _find_for_sender(self, account, wa_id=None, bsuid=None):
        """The account's conversation with a customer: by number, whatever form of it they
        use, else by business-scoped user id."""
        if wa_id and wa_id.isdigit():
            found = self.search(
                [("account_id", "=", account.id), ("wa_id", "in", phone.wa_id_variants(wa_id))],
                limit=1,
            )
            if found:
                return found
        if bsuid:
            return self.search([("account_id", "=", account.id), ("bsuid", "=", bsuid)], limit=1)
        return self.browse()

    @api.model
    def _create_for_sender(self, account, wa_id=None, bsuid=None, profile_name=None,
                           partner=None, lead=None, username=None):
        """A new conversation; its contact is found or created from the sender's ids.

        UNIQUE(account_id, wa_id) and (account_id, bsuid): a concurrent first message
        makes this insert fail, and the event is replayed in a fresh transaction that
        finds it.
        """
        wa_id = wa_id if wa_id and wa_id.isdigit() else False
        if not partner:
            partner = self.env["res.partner"].sudo()._whatsapp_find_or_create(
                wa_id, profile_name, account, bsuid=bsuid, username=username
            )
        return self.create({
            "account_id": account.id,
            "wa_id": wa_id,
            "bsuid": bsuid or False,
            "username": username or False,
            "partner_id": partner.id,
            "profile_name": profile_name,
            "lead_id": lead.id if lead else False,
            "state": "new",
        })

    def _learn_identity(self, wa_id=None, bsuid=None, username=None):
        """Fill in what a later message tells about the customer: the number they now
        show, their BSUID (first seen, or issued anew), their username."""
        self.ensure_one()
        values = {}
        if wa_id and wa_id.isdigit() and not self.wa_id:
            values["wa_id"] = wa_id
        if bsuid and bsuid != self.bsuid:
            values["bsuid"] = bsuid
        if username and username != self.username:
            values["username"] = username
        if values:
            self.write(values)
            self.partner_id.sudo()._whatsapp_learn_identity(
                values.get("wa_id"), values.get("bsuid")
            )

    def _change_identity(self, notice):
        """The customer changed number (``user_changed_number``) or WhatsApp issued them
        a new BSUID (``user_changed_user_id``): this conversation and its contact take
        the new ids. The old number stays in the history: the system message that says
        so is stored in the conversation and posted to its chatter."""
        self.ensure_one()
        values = {}
        if notice.type == "user_changed_number" and (notice.wa_id or "").isdigit():
            values["wa_id"] = notice.wa_id
        if notice.user_id:
            values["bsuid"] = notice.user_id
        for fname in list(values):
            if values[fname] == self[fname]:
                del values[fname]
            elif self.search_count([("account_id", "=", self.account_id.id),
                                    (fname, "=", values[fname]), ("id", "!=", self.id)]):
                _logger.warning(
                    "WhatsApp %s: %s %s already belongs to another conversation; kept %s",
                    notice.type, fname, values.pop(fname), self[fname],
                )
        if not values:
            return
        old_number = self.wa_id
        self.write(values)
        partner = self.partner_id.sudo()
        partner_values = {}
        if "wa_id" in values:
            partner_values["whatsapp_wa_id"] = values["wa_id"]
            if old_number and partner.phone_sanitized == f"+{old_number}":
                partner_values["phone"] = f"+{values['wa_id']}"
        if "bsuid" in values:
            partner_values["whatsapp_bsuid"] = values["bsuid"]
        if partner and partner_values:
            partner.write(partner_values)

    def _recipient_address(self):
        """Where a send goes: the number when known, else the BSUID (outbound.addressed)."""
        self.ensure_one()
        return f"+{self.wa_id}" if self.wa_id else self.bsuid

    def _update_profile_name(self, profile_name):
        self.ensure_one()
        if profile_name and self.profile_name != profile_name:
            self.profile_name = profile_name

    # ------------------------------------------------------------------
    # A message was stored: the single entry point
    # ------------------------------------------------------------------

    def _message_stored(self, message, referral=None):
        """Everything a new message changes, called once by inbound and outbound alike.

        In this order:
        1. figures: the message's agent, team and rates; the counters; for a customer
           message, the survey answer or the start of a cycle; for ours, the first
           response;
        2. a customer message: window, state (a survey answer leaves a resolved
           conversation resolved) and assignee, then the lead; the open lead is looked
           up once;
        3. waiting for our answer and unread, for the inbox;
        4. the chatter posts on the conversation and the lead, and the bus;
        5. a customer message: consent keywords, then the away message.
        """
        self.ensure_one()
        conversation = self.sudo()
        message = message.sudo()
        survey_answer = conversation._count_message(message)
        if message._is_customer_message():
            lead = conversation._open_lead()
            conversation._register_inbound(message.timestamp, lead, keep_state=survey_answer)
            if conversation.account_id.create_lead and conversation.partner_id:
                conversation._ensure_lead(lead, referral=referral)
        else:
            conversation.last_message_at = max(
                message.timestamp, conversation.last_message_at or message.timestamp
            )
        if message.direction == "in" and message.lead_id != conversation.lead_id:
            message.lead_id = conversation.lead_id
        conversation._update_waiting(message)
        message._post_to_chatter()
        conversation._notify_inbox("message")
        if message._is_customer_message():
            message._apply_consent_keywords()
            conversation._send_away_message(message.timestamp)

    def _count_message(self, message):
        """Step 1 of ``_message_stored``. Returns whether it answered the survey."""
        message.write({"user_id": self.user_id.id, "team_id": self.team_id.id})
        values = {"message_count": self.message_count + 1}
        survey_answer = False
        if message.direction == "in":
            values["inbound_count"] = self.inbound_count + 1
        if message._is_customer_message():
            survey_answer = self._take_survey_answer(message)
            if not survey_answer and metrics.starts_cycle(
                cycle_started=bool(self.first_inbound_at), resolved=self.state == "resolved"
            ):
                self._set_null(["first_response_at", "first_response_minutes"])
                values["first_inbound_at"] = message.timestamp
        elif message.direction == "out":
            values["outbound_count"] = self.outbound_count + 1
            if metrics.is_first_response(
                cycle_started=bool(self.first_inbound_at),
                already_answered=bool(self.first_response_at),
                message_type=message.message_type,
                automatic=not message._is_agent_answer(),
            ):
                responded_at = max(message.timestamp, self.first_inbound_at)
                values.update(
                    first_response_at=responded_at,
                    first_response_minutes=self._business_minutes(
                        self.first_inbound_at, responded_at
                    ),
                )
        self.write(values)
        return survey_answer

    def _register_inbound(self, timestamp, lead, keep_state=False):
        """Step 2: the window moves; a first message or a comeback is (re)routed."""
        self.ensure_one()
        values = {"last_message_at": max(timestamp, self.last_message_at or timestamp)}
        if not self.last_inbound_at or timestamp > self.last_inbound_at:
            values.update(last_inbound_at=timestamp, window_expires_at=timestamp + WINDOW)
        route = not keep_state and (not self.last_inbound_at or self.state == "resolved")
        if not keep_state and self.state in ("resolved", "pending"):
            values["state"] = "open"
        self.write(values)
        if route:
            self._assign_in_team(self.account_id.team_id, lead)

    def _open_lead(self):
        """The lead this customer's conversation belongs to now: its own, else their open one."""
        self.ensure_one()
        lead = self.lead_id
        if lead and lead.active and lead.won_status == "pending":
            return lead
        return self.env["crm.lead"].sudo()._whatsapp_open_lead_for(
            self.partner_id, self.account_id
        )

    def _ensure_lead(self, lead, referral=None):
        """Link the customer's open lead, or create one for this conversation."""
        self.ensure_one()
        if not lead:
            lead = self.env["crm.lead"].sudo()._whatsapp_create_from_conversation(self, referral)
        elif referral and not lead.whatsapp_referral:
            lead._whatsapp_set_referral(referral)
        if self.lead_id != lead:
            self.lead_id = lead
        return lead

    def _update_waiting(self, message):
        """Step 3: waiting for our answer and unread, for the inbox."""
        values = {}
        if message._is_customer_message():
            if not self.waiting_reply:
                values["waiting_since"] = message.timestamp or fields.Datetime.now()
            values.update(waiting_reply=True, unread_count=self.unread_count + 1)
        elif message._is_agent_answer():
            values.update(waiting_reply=False, waiting_since=False, unread_count=0)
            if self.state == "new":
                values["state"] = "open"
        if values:
            self.write(values)

    # ------------------------------------------------------------------
    # Routing
    # ------------------------------------------------------------------

    def _assign_in_team(self, team, lead=None):
        """Give the conversation to an available agent of ``team``, or to its queue."""
        self.ensure_one()
        if lead is None:
            lead = self._open_lead()
        user = self._pick_agent(team, lead)
        values = {}
        if self.team_id != team:
            values["team_id"] = team.id
        if self.user_id != user:
            values["user_id"] = user.id
        if values:
            self.write(values)
        return user

    def _pick_agent(self, team, lead):
        """The agent for this conversation in ``team`` (empty: the team's queue)."""
        self.ensure_one()
        Users = self.env["res.users"]
        partner = self.partner_id
        sticky = Users.union(*(user for user in (
            lead.user_id,
            partner.user_id or partner.commercial_partner_id.user_id,
            self.user_id,
        ) if user))
        members = team._whatsapp_members() if team else Users
        if team:
            self.account_id._routing_lock()
        loads = self._open_loads(members | sticky)

        def agent(user):
            return routing.Agent(
                id=user.id,
                available=bool(user.active and not user.share and user.whatsapp_available),
                open_count=loads.get(user, 0),
            )

        choice = routing.pick_agent(
            method=team.whatsapp_assignment or routing.ROUND_ROBIN,
            members=[agent(user) for user in members],
            sticky=[agent(user) for user in sticky],
            current=agent(self.user_id) if self.user_id else None,
            max_open=team.whatsapp_max_open if team else 0,
            round_robin_index=self.account_id._routing_round_robin_index() if team else 0,
            in_team=bool(team),
        )
        if choice.next_round_robin_index is not None:
            self.account_id._routing_set_round_robin_index(choice.next_round_robin_index)
        return Users.browse(choice.agent_id)

    def _open_loads(self, users):
        """Open conversations per agent, this one excluded."""
        groups = self.sudo()._read_group(
            [
                ("user_id", "in", users.ids),
                ("state", "in", OPEN_STATES),
                ("id", "not in", self.ids),
            ],
            ["user_id"],
            ["__count"],
        )
        return dict(groups)

    @api.model
    def _reassign_from_users(self, users):
        """Hand the open conversations of agents who became unavailable to others."""
        conversations = self.search([("user_id", "in", users.ids), ("state", "in", OPEN_STATES)])
        for conversation in conversations:
            previous = conversation.user_id
            conversation._assign_in_team(conversation.team_id or conversation.account_id.team_id)
            conversation.message_post(
                body=self.env._(
                    "%(agent)s is not available anymore: conversation reassigned to %(new)s.",
                    agent=previous.name,
                    new=conversation.user_id.name or self.env._("the team's queue"),
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        return conversations

    def _send_away_message(self, received_at):
        """Outside the team's hours, answer with its away message, once per 12 hours."""
        self.ensure_one()
        team = self.team_id or self.account_id.team_id
        if not (team.whatsapp_away_enabled and team.whatsapp_calendar_id):
            return False
        if not self.window_open:
            return False
        text = team.with_context(lang=self.partner_id.lang or None).whatsapp_away_message
        if not text or team._whatsapp_is_open_at(received_at):
            return False
        # Two messages processed at once must not both answer: wait for the other one.
        self.env.cr.execute(
            "SELECT away_message_sent_at FROM whatsapp_crm_conversation WHERE id = %s FOR UPDATE",
            [self.id],
        )
        sent_at = self.env.cr.fetchone()[0]
        now = fields.Datetime.now()
        if sent_at and now - sent_at < AWAY_INTERVAL:
            return False
        message = self.env["whatsapp.crm.message"]._queue_outbound(
            self, outbound.text(text), message_type="text", body=text, auto_reply=True
        )
        self.away_message_sent_at = now
        return message

    @api.model
    def _cron_check_first_response(self):
        """An activity for whoever must answer a customer waiting beyond the target."""
        now = fields.Datetime.now()
        todo = self.env.ref("mail.mail_activity_data_todo")
        summary = self.env._("WhatsApp customer waiting")
        teams = self.env["crm.team"].search([("whatsapp_response_target_minutes", ">", 0)])
        for team in teams:
            deadline = now - timedelta(minutes=team.whatsapp_response_target_minutes)
            waiting = self.search(
                [
                    ("team_id", "=", team.id),
                    ("state", "in", ("new", "open")),
                    ("last_inbound_at", "<=", deadline),
                ]
            )._filter_unanswered()
            for conversation in waiting:
                user = conversation.user_id or team.user_id
                if not user or conversation.activity_ids.filtered(
                    lambda activity: activity.activity_type_id == todo  # noqa: B023
                    and activity.summary == summary
                ):
                    continue
                conversation.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=summary,
                    note=self.env._(
                        "The customer has waited more than %(minutes)s minutes for an answer.",
                        minutes=team.whatsapp_response_target_minutes,
                    ),
                    user_id=user.id,
                )

    def _filter_unanswered(self):
        """Conversations whose last customer message got no answer from an agent yet."""
        last_answers = dict(
            self.env["whatsapp.crm.message"]._read_group(
                [
                    ("conversation_id", "in", self.ids),
                    ("direction", "=", "out"),
                    ("auto_reply", "=", False),
                    ("state", "!=", "failed"),
                ],
                ["conversation_id"],
                ["timestamp:max"],
            )
        )
        return self.filtered(
            lambda conversation: not last_answers.get(conversation)
            or last_answers[conversation] < conversation.last_inbound_at
        )

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------

    def _on_resolved(self):
        now = fields.Datetime.now()
        for conversation in self.sudo():
            start = conversation.first_inbound_at
            values = {"resolved_at": now}
            if start:
                values["resolution_minutes"] = conversation._business_minutes(start, now)
            conversation.write(values)
        self._send_survey()

    def _assign_cycle_messages(self, vals):
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

    def _business_calendar(self):
        self.ensure_one()
        company = self.company_id or self.env.company
        return self.team_id.whatsapp_calendar_id or company.resource_calendar_id

    def _business_minutes(self, start, end):
        """Working minutes of the conversation's calendar between two naive UTC datetimes."""
        self.ensure_one()
        if not start or not end or end <= start:
            return 0.0
        calendar = self._business_calendar()
        if not calendar:
            return (end - start).total_seconds() / 60
        return round(calendar.get_work_hours_count(start, end) * 60, 1)

    def _set_null(self, fnames):
        """Store NULL (not 0) so that the figure is left out of averages. The fields
        are set together: a conversation where none is set (a new one) needs no UPDATE."""
        conversations = self.filtered(lambda c: any(c[fname] for fname in fnames))
        if not conversations:
            return
        conversations.flush_recordset(fnames)
        self.env.cr.execute(SQL(
            "UPDATE %s SET %s WHERE id IN %s",
            SQL.identifier(self._table),
            SQL(", ").join(SQL("%s = NULL", SQL.identifier(fname)) for fname in fnames),
            tuple(conversations.ids),
        ))
        conversations.invalidate_recordset(fnames)

    # ------------------------------------------------------------------
    # Satisfaction survey: a 1-5 list message on resolution, and the answer
    # ------------------------------------------------------------------

    def _send_survey(self):
        """Send the survey through the single outbound door, where it can be sent."""
        Message = self.env["whatsapp.crm.message"]
        for conversation in self.sudo():
            account = conversation.account_id
            if not account.csat_enabled or not conversation.window_open:
                continue
            rows = [(str(score), conversation._survey_row_label(score)) for score in csat.SCORES]
            try:
                built = interactive.list_message(
                    account.csat_question or "?", self.env._("Rate us"), rows
                )
                request = Message._queue_outbound(
                    conversation, outbound.interactive(built),
                    message_type="interactive",
                    body="\n".join([account.csat_question or "", "[1] [2] [3] [4] [5]"]),
                    auto_reply=True,
                )
            except (UserError, ValueError) as error:
                _logger.info("Satisfaction survey not sent on %s: %s", conversation.id, error)
                continue
            conversation.write({"csat_request_id": request.id, "csat_message_id": False})

    def _survey_row_label(self, score):
        return {
            1: self.env._("Very dissatisfied"),
            2: self.env._("Dissatisfied"),
            3: self.env._("Neutral"),
            4: self.env._("Satisfied"),
            5: self.env._("Very satisfied"),
        }[score]

    def _take_survey_answer(self, message):
        """Store the score when the message answers a pending survey; say if it did.

        An answer does not reopen the conversation; any other message reopens it as
        usual and ends the wait.
        """
        self.ensure_one()
        if not self.csat_awaiting:
            return False
        score = csat.score_of(message.message_type, message.interactive_reply_id, message.body)
        if not score:
            return False
        self.write({"csat_score": score, "csat_message_id": message.id})
        return True

    # ------------------------------------------------------------------
    # Agents' actions
    # ------------------------------------------------------------------

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_message_action"
        )
        action["domain"] = [("conversation_id", "=", self.id)]
        return action

    def action_resolve(self):
        self.write({"state": "resolved"})
        return True

    def action_reopen(self):
        self.write({"state": "open"})
        return True

    def action_mark_read(self):
        """The agent opened the conversation: unread goes to zero; Meta gets a read receipt.

        Called by the web client when a conversation is shown; reading the record
        itself changes nothing.
        """
        for conversation in self:
            if conversation.unread_count and conversation.user_id == self.env.user:
                conversation.sudo().unread_count = 0
                conversation._notify_inbox("read")
            if conversation.account_id.mark_read_on_open:
                conversation._send_read_receipt()
        return True

    def _send_read_receipt(self):
        """Mark the newest inbound message read on Meta, which covers the earlier ones."""
        self.ensure_one()
        unread = self.env["whatsapp.crm.message"].sudo().search(
            [("conversation_id", "=", self.id), ("direction", "=", "in"),
             ("marked_read", "=", False), ("wamid", "!=", False)],
            order="timestamp desc, id desc",
        )
        if not unread:
            return False
        try:
            self.account_id._get_client().mark_as_read(unread[0].wamid)
        except (api_errors.CloudApiError, UserError) as error:
            _logger.warning("WhatsApp read receipt for %s failed: %s", self.id, error)
            return False
        unread.marked_read = True
        return True

    def action_send_reply(self):
        """Send the agent's draft with the composer's logic, then clear it."""
        self.ensure_one()
        body = self.reply_body
        if not (body or "").strip():
            raise UserError(self.env._("Write a reply first."))
        composer = self.env["whatsapp.crm.composer"].create({
            "res_model": self._name,
            "res_ids": self.ids,
            "account_id": self.account_id.id,
            "body": body,
        })
        if composer.use_template:
            raise UserError(self.env._(
                "The 24-hour window is closed: send an approved template with the Reply button."
            ))
        composer._send_to(self, self)
        self.reply_body = False
        return True

    def get_thread(self, limit=THREAD_LIMIT):
        """The latest messages as plain data, oldest first, for the web client's thread.

        Texts are returned as written; the client escapes them when it draws them.
        """
        self.ensure_one()
        self.check_access("read")
        messages = self.env["whatsapp.crm.message"].search(
            [("conversation_id", "=", self.id)],
            order="timestamp desc, id desc", limit=limit,
        )
        types = dict(self.env["whatsapp.crm.message"]._fields["message_type"]
                     ._description_selection(self.env))
        states = dict(self.env["whatsapp.crm.message"]._fields["state"]
                      ._description_selection(self.env))
        return [
            {
                "id": message.id,
                "direction": message.direction,
                "message_type": message.message_type,
                "type_label": types.get(message.message_type, message.message_type),
                "body": message.body or "",
                "state": message.state,
                "state_label": states.get(message.state, message.state),
                "error_message": message.error_message or "",
                "timestamp": fields.Datetime.to_string(message.timestamp),
                "author": message.author_user_id.name or "",
                "reply_to": message.reply_to_id.body or "",
                "attachments": [
                    {"id": attachment.id, "name": attachment.name,
                     "mimetype": attachment.mimetype}
                    for attachment in message.sudo().attachment_ids
                ],
            }
            for message in reversed(messages)
        ]

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
