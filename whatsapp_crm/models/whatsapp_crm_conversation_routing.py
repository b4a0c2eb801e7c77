from datetime import timedelta

from odoo import api, fields, models

OPEN_STATES = ("new", "open", "pending")
AWAY_INTERVAL = timedelta(hours=12)


class WhatsappCrmConversationRouting(models.Model):
    _inherit = "whatsapp.crm.conversation"

    away_message_sent_at = fields.Datetime(readonly=True, copy=False)

    # ------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------

    def _route(self):
        """Give each conversation its account's team and an available agent, or none."""
        for conversation in self:
            conversation._assign_in_team(conversation.account_id.team_id)
        return True

    def _assign_in_team(self, team):
        self.ensure_one()
        user = self._route_pick_user(team)
        values = {}
        if self.team_id != team:
            values["team_id"] = team.id
        if self.user_id != user:
            values["user_id"] = user.id
        if values:
            self.write(values)
        return user

    def _route_pick_user(self, team):
        """The agent for this conversation in `team` (empty: the team's queue)."""
        self.ensure_one()
        current = self.user_id if self.user_id.whatsapp_available else self.env["res.users"]
        if team and team.whatsapp_assignment == "manual":
            return current
        members = team._whatsapp_members() if team else self.env["res.users"]
        account = self.account_id
        if team:
            account._routing_lock()
        loads = self._route_open_loads(members | self._route_sticky_users())

        def eligible(user):
            return (
                user
                and user.active
                and not user.share
                and user.whatsapp_available
                and (not team or user in members)
                and (not team.whatsapp_max_open or loads.get(user, 0) < team.whatsapp_max_open)
            )

        for candidate in self._route_sticky_users():
            if eligible(candidate):
                return candidate
        pool = members.filtered(eligible)
        if not pool:
            return self.env["res.users"]
        if team.whatsapp_assignment == "least_loaded":
            return min(pool, key=lambda user: (loads.get(user, 0), user.id))
        return account._routing_round_robin(members, pool)

    def _route_sticky_users(self):
        """Lead's salesperson, contact's salesperson, then the current assignee."""
        self.ensure_one()
        lead = self.lead_id
        if not lead.active or lead.won_status != "pending":
            lead = self.env["crm.lead"].sudo()._whatsapp_open_lead_for(
                self.partner_id, self.account_id
            )
        partner = self.partner_id
        candidates = [
            lead.user_id,
            partner.user_id or partner.commercial_partner_id.user_id,
            self.user_id,
        ]
        return self.env["res.users"].union(*(user for user in candidates if user))

    def _route_open_loads(self, users):
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

    # ------------------------------------------------------------------
    # Business hours
    # ------------------------------------------------------------------

    def _register_inbound(self, timestamp):
        result = super()._register_inbound(timestamp)
        self._send_away_message(timestamp)
        return result

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
            self, {"type": "text", "text": {"body": text}}, message_type="text", body=text
        )
        message.auto_reply = True
        self.away_message_sent_at = now
        return message

    # ------------------------------------------------------------------
    # First-response target
    # ------------------------------------------------------------------

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


class WhatsappCrmMessageRouting(models.Model):
    _inherit = "whatsapp.crm.message"

    auto_reply = fields.Boolean(
        readonly=True, copy=False, help="Sent automatically, e.g. the away message."
    )


class WhatsappCrmAccountRouting(models.Model):
    _inherit = "whatsapp.crm.account"

    def _routing_lock(self):
        """Serialise routing on this account across workers.

        The row lock makes a concurrent assignment wait; the update makes one that
        started from an older snapshot fail with a serialization error and be
        retried, so that it counts the conversations assigned meanwhile.
        """
        self.ensure_one()
        self.env.cr.execute(
            "SELECT round_robin_index FROM whatsapp_crm_account WHERE id = %s FOR UPDATE",
            [self.id],
        )
        self.env.cr.execute(
            "UPDATE whatsapp_crm_account SET round_robin_index = round_robin_index "
            "WHERE id = %s",
            [self.id],
        )

    def _routing_round_robin(self, members, pool):
        """Next member in turn who is in `pool` (the account row is locked already)."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT round_robin_index FROM whatsapp_crm_account WHERE id = %s FOR UPDATE",
            [self.id],
        )
        index = self.env.cr.fetchone()[0] or 0
        size = len(members)
        offset = next(step for step in range(size) if members[(index + step) % size] in pool)
        self.env.cr.execute(
            "UPDATE whatsapp_crm_account SET round_robin_index = %s WHERE id = %s",
            [index + offset + 1, self.id],
        )
        self.invalidate_recordset(["round_robin_index"])
        return members[(index + offset) % size]
