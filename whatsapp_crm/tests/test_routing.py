from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from odoo import fields

from odoo.addons.whatsapp_crm.lib import outbound

from .common import WhatsappCrmCase, tagged
from .common_simulator import WhatsappCrmSimulatorCase

CALENDAR_TZ = "America/Sao_Paulo"  # UTC-3 all year round
AWAY_TEXT = "We are closed, we answer tomorrow from 9:00."


def _epoch(moment):
    return str(int(moment.timestamp()))


class RoutingMixin:
    """Helpers shared by the routing tests: customers, conversations and hours."""

    def customer_writes_webhook(self, wa_id, when=None, name="Ana Lima"):
        when = when or datetime.now().astimezone()
        self.post_ok(self.inbound_payload(wa_id, name=name, timestamp=_epoch(when)))
        return self.conversation_of(wa_id)

    def open_conversations(self, user, count, state="open"):
        return self.env["whatsapp.crm.conversation"].create(
            [
                {
                    "account_id": self.account.id,
                    "wa_id": f"5511880{user.id:03d}{index:03d}{len(state)}",
                    "state": state,
                    "user_id": user.id,
                }
                for index in range(count)
            ]
        )

    def business_hours(self, hour_from=9.0, hour_to=17.0):
        """A calendar open every day from `hour_from` to `hour_to`, São Paulo time."""
        calendar = self.env["resource.calendar"].create(
            {
                "name": "WhatsApp hours",
                "tz": CALENDAR_TZ,
                "attendance_ids": [
                    fields.Command.create(
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": hour_from,
                            "hour_to": hour_to,
                        }
                    )
                    for day in range(7)
                ],
            }
        )
        self.team.write(
            {
                "whatsapp_calendar_id": calendar.id,
                "whatsapp_away_enabled": True,
                "whatsapp_away_message": AWAY_TEXT,
            }
        )
        return calendar

    @staticmethod
    def recent_local_time(hour):
        """A moment at `hour`:30 São Paulo time, within the last 23 hours (or the next one)."""
        now = datetime.now(ZoneInfo(CALENDAR_TZ))
        moment = now.replace(hour=hour, minute=30, second=0, microsecond=0)
        while moment > now + timedelta(hours=1):
            moment -= timedelta(days=1)
        return moment

    def away_messages(self, conversation):
        return conversation.whatsapp_message_ids.filtered(
            lambda message: message.direction == "out" and message.body == AWAY_TEXT
        )


@tagged("post_install", "-at_install")
class TestRouting(RoutingMixin, WhatsappCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson_3 = cls._new_salesperson("wa_sales_3", "Salesperson Three")
        cls.other_team = cls.env["crm.team"].create(
            {"name": "Second line", "user_id": cls.salesperson_3.id}
        )
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.other_team.id, "user_id": cls.salesperson_3.id}
        )

    def test_sticky_to_the_leads_salesperson(self):
        partner = self.env["res.partner"].create(
            {"name": "Lia", "phone": "+5511977770001", "user_id": self.salesperson_1.id}
        )
        lead = self.env["crm.lead"].create(
            {"name": "Lia's sofa", "partner_id": partner.id, "user_id": self.salesperson_2.id}
        )
        conversation = self.customer_writes_webhook("5511977770001")
        self.assertEqual(conversation.lead_id, lead)
        self.assertEqual(conversation.user_id, self.salesperson_2)
        self.assertEqual(conversation.team_id, self.team)

    def test_sticky_to_the_contacts_salesperson_also_owns_the_new_lead(self):
        self.env["res.partner"].create(
            {"name": "Rui", "phone": "+5511977770002", "user_id": self.salesperson_2.id}
        )
        conversation = self.customer_writes_webhook("5511977770002")
        self.assertEqual(conversation.user_id, self.salesperson_2)
        self.assertEqual(conversation.lead_id.user_id, self.salesperson_2)

    def test_sticky_skips_salespeople_outside_the_team_or_unavailable(self):
        self.env["res.partner"].create(
            {"name": "Edu", "phone": "+5511977770003", "user_id": self.salesperson_3.id}
        )
        self.salesperson_1.whatsapp_available = False
        conversation = self.customer_writes_webhook("5511977770003")
        self.assertEqual(conversation.user_id, self.salesperson_2)
        self.assertEqual(conversation.lead_id.user_id, self.salesperson_2)

    def test_round_robin_among_members(self):
        users = [self.customer_writes_webhook(f"55119770000{i}").user_id for i in range(4)]
        self.assertEqual(users[0], users[2])
        self.assertEqual(users[1], users[3])
        self.assertEqual(set(users), {self.salesperson_1, self.salesperson_2})

    def test_least_loaded_member(self):
        self.team.whatsapp_assignment = "least_loaded"
        self.open_conversations(self.salesperson_2, 2)
        self.open_conversations(self.salesperson_1, 1)
        self.open_conversations(self.salesperson_1, 3, state="resolved")  # not a load
        self.assertEqual(self.customer_writes_webhook("5511966660001").user_id,
                         self.salesperson_1)
        # 2 against 2: the tie goes to the first member
        self.assertLess(self.salesperson_1.id, self.salesperson_2.id)
        self.assertEqual(self.customer_writes_webhook("5511966660002").user_id,
                         self.salesperson_1)
        self.assertEqual(self.customer_writes_webhook("5511966660003").user_id,
                         self.salesperson_2)

    def test_caps_skip_full_agents_and_leave_the_rest_unassigned(self):
        self.team.whatsapp_max_open = 2
        self.open_conversations(self.salesperson_1, 2)
        self.open_conversations(self.salesperson_2, 1)
        self.assertEqual(self.customer_writes_webhook("5511955550001").user_id,
                         self.salesperson_2)
        conversation = self.customer_writes_webhook("5511955550002")
        self.assertFalse(conversation.user_id)
        self.assertEqual(conversation.team_id, self.team)
        self.assertFalse(conversation.lead_id.user_id)

    def test_nobody_available_leaves_the_conversation_in_the_team_queue(self):
        (self.salesperson_1 | self.salesperson_2).write({"whatsapp_available": False})
        conversation = self.customer_writes_webhook("5511955550003")
        self.assertFalse(conversation.user_id)
        self.assertEqual(conversation.team_id, self.team)

    def test_manual_assignment(self):
        self.team.whatsapp_assignment = "manual"
        self.env["res.partner"].create(
            {"name": "Ada", "phone": "+5511955550004", "user_id": self.salesperson_1.id}
        )
        self.assertFalse(self.customer_writes_webhook("5511955550004").user_id)

    def test_going_unavailable_reassigns_only_open_conversations(self):
        open_ones = self.open_conversations(self.salesperson_1, 2)
        pending = self.open_conversations(self.salesperson_1, 1, state="pending")
        resolved = self.open_conversations(self.salesperson_1, 1, state="resolved")
        # A salesperson switches themselves off (SELF_WRITEABLE_FIELDS).
        self.salesperson_1.with_user(self.salesperson_1).write({"whatsapp_available": False})
        self.assertEqual((open_ones | pending).user_id, self.salesperson_2)
        self.assertEqual(resolved.user_id, self.salesperson_1)
        for conversation in open_ones | pending:
            notes = conversation.message_ids.filtered(
                lambda m: "Salesperson One is not available" in (m.body or "")
            )
            self.assertEqual(len(notes), 1)
            self.assertTrue(notes.subtype_id.internal)
        self.assertFalse(resolved.message_ids.filtered(lambda m: "not available" in m.body))

    def test_first_response_activity_once_for_the_assignee(self):
        self.team.write({"whatsapp_response_target_minutes": 30, "user_id": self.salesperson_3.id})
        self.env["res.partner"].create(
            {"name": "Bia", "phone": "+5511944440001", "user_id": self.salesperson_2.id}
        )
        now = datetime.now().astimezone()
        (self.salesperson_1 | self.salesperson_2).write({"whatsapp_available": False})
        unassigned = self.customer_writes_webhook("5511944440004", when=now - timedelta(hours=2))
        (self.salesperson_1 | self.salesperson_2).write({"whatsapp_available": True})
        waiting = self.customer_writes_webhook("5511944440001", when=now - timedelta(hours=1))
        recent = self.customer_writes_webhook("5511944440002", when=now - timedelta(minutes=5))
        answered = self.customer_writes_webhook("5511944440003", when=now - timedelta(hours=1))
        self.env["whatsapp.crm.message"]._queue_outbound(
            answered, outbound.text("Hi"), message_type="text", body="Hi"
        )
        Conversation = self.env["whatsapp.crm.conversation"]
        Conversation._cron_check_first_response()
        Conversation._cron_check_first_response()

        def sla_activities(conversation):
            return conversation.activity_ids.filtered(
                lambda a: a.summary == "WhatsApp customer waiting"
            )

        self.assertEqual(len(sla_activities(waiting)), 1)
        self.assertEqual(sla_activities(waiting).user_id, self.salesperson_2)
        self.assertEqual(sla_activities(waiting).activity_type_id,
                         self.env.ref("mail.mail_activity_data_todo"))
        self.assertFalse(sla_activities(recent))
        self.assertFalse(sla_activities(answered))
        self.assertEqual(sla_activities(unassigned).user_id, self.salesperson_3)

    def test_transfer_to_a_user_with_a_note(self):
        conversation = self.customer_writes_webhook("5511933330001")
        wizard = self.env["whatsapp.crm.transfer"].with_context(
            active_model="whatsapp.crm.conversation", active_ids=conversation.ids
        ).create({"target": "user", "user_id": self.salesperson_3.id,
                  "note": "Wants a quote for 40 chairs"})
        wizard.action_transfer()
        self.assertEqual(conversation.user_id, self.salesperson_3)
        note = conversation.message_ids.filtered(lambda m: "40 chairs" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("Salesperson Three", note.body)
        self.assertTrue(note.subtype_id.internal)

    def test_transfer_to_a_team(self):
        conversation = self.customer_writes_webhook("5511933330002")
        self.env["whatsapp.crm.transfer"].create(
            {"conversation_ids": conversation.ids, "target": "team",
             "team_id": self.other_team.id, "note": "Spanish speaker"}
        ).action_transfer()
        self.assertEqual(conversation.team_id, self.other_team)
        self.assertEqual(conversation.user_id, self.salesperson_3)
        self.assertTrue(conversation.message_ids.filtered(lambda m: "Spanish" in (m.body or "")))


    def test_away_message_outside_hours_once_per_twelve_hours(self):
        self.business_hours(9.0, 17.0)
        night = self.recent_local_time(3)
        conversation = self.customer_writes_webhook("5511922220001", when=night)
        away = self.away_messages(conversation)
        self.assertEqual(len(away), 1)
        self.assertEqual((away.state, away.direction, away.auto_reply), ("queued", "out", True))
        self.assertEqual(away.outbound_payload["text"]["body"], AWAY_TEXT)

        self.customer_writes_webhook("5511922220001", when=night + timedelta(minutes=10))
        self.assertEqual(len(self.away_messages(conversation)), 1)

        conversation.away_message_sent_at = fields.Datetime.now() - timedelta(hours=13)
        self.customer_writes_webhook("5511922220001", when=night + timedelta(minutes=20))
        self.assertEqual(len(self.away_messages(conversation)), 2)

    def test_no_away_message_inside_hours_or_when_disabled(self):
        self.business_hours(9.0, 17.0)
        day = self.customer_writes_webhook("5511922220002", when=self.recent_local_time(11))
        self.assertFalse(day.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))
        self.team.whatsapp_away_enabled = False
        night = self.customer_writes_webhook("5511922220003", when=self.recent_local_time(3))
        self.assertFalse(self.away_messages(night))


@tagged("post_install", "-at_install")
class TestAwayMessageSent(RoutingMixin, WhatsappCrmSimulatorCase):
    def test_away_message_reaches_the_customer(self):
        # Open one hour a day, six hours away from now: the customer writes outside it.
        opens_at = (datetime.now(ZoneInfo(CALENDAR_TZ)).hour + 6) % 24
        self.business_hours(float(opens_at), float(opens_at + 1))
        message = self.customer_writes("5511922220004")
        away = self.away_messages(message.conversation_id)
        self.assertEqual(len(away), 1)
        self.env["whatsapp.crm.message"]._cron_send_queue()
        bodies = [
            request["json"]["text"]["body"]
            for request in self.sent_requests()
            if request["json"] and request["json"].get("type") == "text"
        ]
        self.assertEqual(bodies, [AWAY_TEXT])
        self.assertEqual(away.state, "sent")
