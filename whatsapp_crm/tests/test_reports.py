from datetime import date, datetime, timezone

from freezegun import freeze_time

from odoo import Command, fields

from odoo.addons.whatsapp_crm.lib import outbound

from .common import tagged
from .common_simulator import WhatsappCrmSimulatorCase

WA_ID = "5511977776666"
MONDAY = datetime(2025, 3, 3)  # 9:00-17:00 UTC, Monday to Friday, in these tests


def unix(moment):
    return str(int(moment.replace(tzinfo=timezone.utc).timestamp()))


@tagged("post_install", "-at_install")
class TestReports(WhatsappCrmSimulatorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create({
            "name": "WhatsApp hours (UTC)",
            "tz": "UTC",
            "attendance_ids": [
                Command.create({"name": f"Day {day}", "dayofweek": str(day), "hour_from": 9,
                                "hour_to": 17, "day_period": "full_day"})
                for day in range(5)
            ],
        })
        cls.env.company.resource_calendar_id = cls.calendar
        if "whatsapp_calendar_id" in cls.team._fields:
            cls.team.whatsapp_calendar_id = cls.calendar
        cls.Message = cls.env["whatsapp.crm.message"]
        cls.Dashboard = cls.env["whatsapp.crm.dashboard"]

    def customer_writes_at(self, moment, body="Hello"):
        self.post_ok(self.inbound_payload(WA_ID, timestamp=unix(moment), text={"body": body}))
        self.env.invalidate_all()
        return self.conversation_of(WA_ID)

    def customer_writes(self, wa_id, name="Marta", **fields):
        message = super().customer_writes(wa_id, name=name, **fields)
        self.env.invalidate_all()  # the webhook was processed by the server's environment
        return message

    def reply(self, conversation, body="On it!", user=None):
        return self.Message.with_user(user or self.salesperson_1)._queue_outbound(
            conversation, outbound.text(body), message_type="text", body=body
        )

    # ------------------------------------------------------------------
    # Times in business hours
    # ------------------------------------------------------------------

    def test_first_response_and_resolution_in_business_minutes(self):
        # 7:30 is before opening: the clock starts at 9:00.
        conversation = self.customer_writes_at(MONDAY.replace(hour=7, minute=30))
        self.assertEqual(conversation.first_inbound_at, MONDAY.replace(hour=7, minute=30))
        with freeze_time(MONDAY.replace(hour=10, minute=15)):
            self.reply(conversation)
            self.reply(conversation, "a second reply does not count")
        self.assertEqual(conversation.first_response_at, MONDAY.replace(hour=10, minute=15))
        self.assertEqual(conversation.first_response_minutes, 75)
        with freeze_time(MONDAY.replace(day=4, hour=10)):
            conversation.action_resolve()
        self.assertEqual(conversation.resolved_at, MONDAY.replace(day=4, hour=10))
        self.assertEqual(conversation.resolution_minutes, 8 * 60 + 60)
        self.assertRecordValues(conversation, [{
            "message_count": 3, "inbound_count": 1, "outbound_count": 2,
        }])

        # The customer comes back on Sunday evening: a new cycle; the resolution is cleared.
        conversation = self.customer_writes_at(MONDAY.replace(day=9, hour=20), "Me again")
        self.assertEqual(conversation.state, "open")
        self.assertFalse(conversation.resolved_at)
        self.assertFalse(conversation.first_response_at)
        self.assertEqual(conversation.first_inbound_at, MONDAY.replace(day=9, hour=20))
        with freeze_time(MONDAY.replace(day=10, hour=9, minute=30)):
            self.reply(conversation)
        self.assertEqual(conversation.first_response_minutes, 30)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT resolution_minutes FROM whatsapp_crm_conversation WHERE id = %s",
            [conversation.id],
        )
        self.assertIsNone(self.env.cr.fetchone()[0], "left out of averages, not 0")

    # ------------------------------------------------------------------
    # Message volume and rates
    # ------------------------------------------------------------------

    def test_volume_and_rates_of_outbound_messages(self):
        self.post_ok(self.inbound_payload(WA_ID, text={"body": "Prices?"}))
        conversation = self.conversation_of(WA_ID)
        conversation.user_id = self.salesperson_1
        replies = self.Message
        for body in ("one", "two", "three", "four"):
            replies |= self.reply(conversation, body)
        now = fields.Datetime.now()
        for reply, status in zip(replies, ("delivered", "read", "failed", "sent"), strict=True):
            reply._apply_status(status, now)
        domain = [("conversation_id", "=", conversation.id)]
        [(count, delivered, read, failed)] = self.Message._read_group(
            domain, [], ["__count", "delivered_rate:avg", "read_rate:avg", "failed_rate:avg"]
        )
        self.assertEqual((count, delivered, read, failed), (5, 50, 25, 25),
                         "rates are over outbound messages only")
        by_direction = dict(self.Message._read_group(domain, ["direction"], ["__count"]))
        self.assertEqual(by_direction, {"in": 1, "out": 4})
        by_agent = self.Message._read_group(
            domain + [("direction", "=", "out")], ["user_id", "team_id"], ["__count"]
        )
        self.assertEqual(by_agent, [(self.salesperson_1, conversation.team_id, 4)])
        today = fields.Date.context_today(self.Message)
        by_day = self.Message._read_group(domain, ["timestamp:day"], ["__count"])
        self.assertEqual([(day.date(), count) for day, count in by_day], [(today, 5)])

    # ------------------------------------------------------------------
    # Dashboard
    # ------------------------------------------------------------------

    def test_dashboard_averages_and_90th_percentile(self):
        started = datetime(2020, 1, 6, 9)
        conversations = self.env["whatsapp.crm.conversation"].create([{
            "account_id": self.account.id,
            "wa_id": f"55110000000{index:02d}",
            "first_inbound_at": started,
            "first_response_minutes": 10 * (index + 1),
            "state": "new",
        } for index in range(10)])
        for conversation, minutes, score in zip(conversations[:4], (60, 120, 180, 240),
                                                (5, 4, 3, 0), strict=True):
            conversation.write({"state": "resolved"})
            conversation.write({"resolved_at": started, "resolution_minutes": minutes,
                                **({"csat_score": score} if score else {})})
        for state in ("delivered", "read", "failed", "sent"):
            message = self.Message.create({
                "conversation_id": conversations[0].id, "account_id": self.account.id,
                "direction": "out", "state": "queued", "timestamp": started,
            })
            message._apply_status(state, started)
        self.Message.create({
            "conversation_id": conversations[0].id, "account_id": self.account.id,
            "direction": "in", "state": "received", "timestamp": started,
        })
        figures = self.Dashboard._dashboard_data(date(2020, 1, 1), date(2020, 1, 31))
        self.assertEqual(figures["conversation_count"], 10)
        self.assertAlmostEqual(figures["first_response_avg"], 55)
        self.assertAlmostEqual(figures["first_response_p90"], 91)
        self.assertAlmostEqual(figures["resolution_avg"], 150)
        self.assertAlmostEqual(figures["resolution_p90"], 222)
        self.assertAlmostEqual(figures["csat_avg"], 4)
        self.assertEqual(figures["csat_count"], 3)
        self.assertEqual((figures["inbound_count"], figures["outbound_count"]), (1, 4))
        self.assertAlmostEqual(figures["delivery_rate"], 50)
        self.assertAlmostEqual(figures["read_rate"], 25)
        self.assertAlmostEqual(figures["failure_rate"], 25)
        self.assertGreaterEqual(figures["backlog_new"], 6)

        today = fields.Date.context_today(self.Dashboard)
        before = self.Dashboard._dashboard_data(today, today)
        source = self.env.ref("whatsapp_crm.utm_source_whatsapp")
        leads = self.env["crm.lead"].create([
            {"name": "WA 1", "source_id": source.id, "expected_revenue": 1000},
            {"name": "WA 2", "source_id": source.id, "expected_revenue": 300},
            {"name": "Web", "expected_revenue": 5000},
        ])
        leads[0].action_set_won()
        after = self.Dashboard._dashboard_data(today, today)
        self.assertEqual(after["lead_count"] - before["lead_count"], 2)
        self.assertEqual(after["lead_won_count"] - before["lead_won_count"], 1)
        self.assertAlmostEqual(after["lead_won_revenue"] - before["lead_won_revenue"], 1000)
        dashboard = self.Dashboard.new({"date_from": date(2020, 1, 1),
                                        "date_to": date(2020, 1, 31)})
        self.assertAlmostEqual(dashboard.first_response_p90, 91)

    # ------------------------------------------------------------------
    # Satisfaction survey
    # ------------------------------------------------------------------

    def start_rated_conversation(self):
        self.sim_line.csat_enabled = True
        self.customer_writes(WA_ID, text="Help please")
        return self.conversation_of(WA_ID, account=self.sim_line)

    def test_survey_sent_on_resolve_and_list_reply_stored(self):
        conversation = self.start_rated_conversation()
        conversation.action_resolve()
        self.Message._cron_send_queue()
        survey = self.sent_requests()[-1]["json"]
        self.assertEqual(survey["type"], "interactive")
        self.assertEqual(survey["interactive"]["type"], "list")
        rows = survey["interactive"]["action"]["sections"][0]["rows"]
        self.assertEqual([row["title"] for row in rows], ["1", "2", "3", "4", "5"])
        self.assertTrue(conversation.csat_awaiting)
        self.assertEqual(conversation.csat_request_id.state, "sent")
        self.assertFalse(conversation.first_response_at, "the survey is not a response")
        self.assertEqual(conversation.outbound_count, 1)

        answer = self.customer_writes(
            WA_ID, type="interactive", list_reply={"id": rows[3]["id"], "title": "4"}
        )
        self.assertEqual(conversation.csat_score, 4)
        self.assertEqual(conversation.csat_message_id, answer)
        self.assertEqual(conversation.state, "resolved", "a rating does not reopen")
        self.assertTrue(conversation.resolved_at)

        self.customer_writes(WA_ID, text="5")
        self.assertEqual(conversation.csat_score, 4, "answered already: not awaiting")
        self.assertEqual(conversation.state, "open")

    def test_text_rating_stored_when_awaiting_only(self):
        conversation = self.start_rated_conversation()
        self.customer_writes(WA_ID, text="4")
        self.assertFalse(conversation.csat_score, "no survey pending")
        conversation.action_resolve()
        self.customer_writes(WA_ID, text=" 4 ")
        self.assertEqual(conversation.csat_score, 4)
        self.assertEqual(conversation.state, "resolved")

    def test_no_survey_when_disabled_or_window_closed(self):
        self.customer_writes(WA_ID, text="Hi")
        conversation = self.conversation_of(WA_ID, account=self.sim_line)
        conversation.action_resolve()
        self.assertFalse(conversation.csat_request_id)
        conversation.action_reopen()
        self.sim_line.csat_enabled = True
        conversation.window_expires_at = datetime(2020, 1, 1)
        conversation.action_resolve()
        self.assertFalse(conversation.csat_request_id)
