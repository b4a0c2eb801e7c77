from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from odoo.addons.whatsapp_crm.lib import outbound

from .common_simulator import WhatsappCrmSimulatorCase

WA_ID = "5511987650000"
BUS = "odoo.addons.bus.models.bus.BusBus._sendone"


@tagged("post_install", "-at_install")
class TestInbox(WhatsappCrmSimulatorCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].set_param("whatsapp_crm.send_reconcile_seconds", "0")
        self.first = self.customer_writes(WA_ID, name="Marta Gil", text="Hola, ¿precio?")
        self.conversation = self.first.conversation_id
        self.lead = self.first.lead_id

    def customer_writes(self, wa_id, name="Marta", **fields):
        message = super().customer_writes(wa_id, name=name, **fields)
        self.env.invalidate_all()  # the webhook ran in the server thread
        return message

    def _bus_payloads(self):
        """Record the inbox notifications sent while the returned list is alive."""
        sent = []

        def record(_bus, target, notification_type, message):
            if notification_type == "whatsapp_crm/conversation_updated":
                sent.append((target, message))

        patcher = patch(BUS, autospec=True, side_effect=record)
        patcher.start()
        self.addCleanup(patcher.stop)
        return sent

    def _reply(self, text, user=None):
        if user:
            self.conversation.user_id = user
        conversation = self.conversation.with_user(user) if user else self.conversation
        conversation.reply_body = text
        conversation.action_send_reply()

    def test_customer_message_waits_for_an_answer_until_an_agent_replies(self):
        conversation = self.conversation
        self.assertTrue(conversation.waiting_reply)
        self.assertEqual(conversation.waiting_since, self.first.timestamp)
        self.assertEqual(conversation.unread_count, 1)
        self.customer_writes(WA_ID, text="¿Hola?")
        self.assertEqual(conversation.waiting_since, self.first.timestamp, "oldest stays")
        self.assertEqual(conversation.unread_count, 2)
        Conversation = self.env["whatsapp.crm.conversation"]
        self.assertIn(conversation, Conversation.search([("waiting_reply", "=", True)]))

        self._reply("¡Hola Marta! 99 €/mes.", user=self.salesperson_1)
        self.assertFalse(conversation.waiting_reply)
        self.assertFalse(conversation.waiting_since)
        self.assertEqual(conversation.unread_count, 0)
        self.assertEqual(conversation.state, "open")
        self.assertFalse(conversation.reply_body, "the draft is cleared once sent")
        out = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(out.body, "¡Hola Marta! 99 €/mes.")
        self.assertEqual(out.author_user_id, self.salesperson_1)
        self.assertEqual(conversation.get_thread()[-1]["body"], "¡Hola Marta! 99 €/mes.")

    def test_automatic_outbound_does_not_answer_the_customer(self):
        self.env["whatsapp.crm.message"]._queue_outbound(
            self.conversation, outbound.text("We are closed"),
            message_type="text", body="We are closed", auto_reply=True,
        )
        self.assertTrue(self.conversation.waiting_reply)

    def test_thread_is_data_oldest_first_and_the_chatter_escapes_it(self):
        evil = "<script>alert(1)</script> <b>hi</b>"
        self.customer_writes(WA_ID, text=evil)
        thread = self.conversation.get_thread()
        self.assertEqual([m["body"] for m in thread], ["Hola, ¿precio?", evil], "oldest first, raw")
        self.assertEqual(thread[-1]["direction"], "in")
        posted = self.conversation.message_ids.filtered("whatsapp_crm_message_id")[:1]
        self.assertNotIn("<script>", posted.body)
        self.assertIn("&lt;script&gt;", posted.body)

    def test_reading_changes_nothing_marking_read_does(self):
        self.conversation.user_id = self.salesperson_1
        conversation = self.conversation.with_user(self.salesperson_1)
        conversation.web_read({"name": {}, "unread_count": {}})
        self.assertEqual(self.conversation.unread_count, 1, "a read has no side effect")
        self.assertIs(conversation.action_mark_read(), True)
        self.assertEqual(self.conversation.unread_count, 0)

    def test_each_agent_has_their_own_draft(self):
        self.conversation.user_id = self.salesperson_1
        mine = self.conversation.with_user(self.salesperson_1)
        theirs = self.conversation.with_user(self.env.user)
        mine.reply_body = "draft of agent 1"
        theirs.reply_body = "draft of the admin"
        self.env.invalidate_all()
        self.assertEqual(mine.reply_body, "draft of agent 1")
        self.assertEqual(theirs.reply_body, "draft of the admin")
        mine.action_send_reply()
        self.env.invalidate_all()
        self.assertFalse(mine.reply_body)
        self.assertEqual(theirs.reply_body, "draft of the admin")

    def test_new_message_reopens_a_resolved_conversation(self):
        self.conversation.action_resolve()
        self.assertEqual(self.conversation.state, "resolved")
        resolved = self.env["whatsapp.crm.conversation"].search(
            [("state", "=", "resolved"), ("id", "=", self.conversation.id)])
        self.assertEqual(resolved, self.conversation)
        self.customer_writes(WA_ID, text="Una cosa más")
        self.assertEqual(self.conversation.state, "open")
        self.assertTrue(self.conversation.waiting_reply)

    def test_window_closing_soon_filter(self):
        Conversation = self.env["whatsapp.crm.conversation"]
        domain = [("window_closing_soon", "=", True), ("id", "=", self.conversation.id)]
        self.assertFalse(Conversation.search(domain), "the window just opened")
        self.conversation.window_expires_at = fields.Datetime.now() + timedelta(minutes=90)
        self.assertEqual(Conversation.search(domain), self.conversation)
        self.conversation.window_expires_at = fields.Datetime.now() - timedelta(minutes=1)
        self.assertFalse(Conversation.search(domain), "already closed")

    def test_closed_window_refuses_a_free_form_reply(self):
        self.conversation.window_expires_at = "2020-01-01 00:00:00"
        with self.assertRaisesRegex(UserError, "24-hour window"):
            self._reply("late")
        with self.assertRaisesRegex(UserError, "Write a reply"):
            self._reply("  ")

    def test_internal_note_never_reaches_the_customer(self):
        messages_before = self.conversation.whatsapp_message_ids
        self.conversation.with_user(self.salesperson_1).message_post(
            body="Customer is a reseller, offer 10%", message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        self.env["whatsapp.crm.message"]._cron_send_queue()
        self.assertEqual(self.conversation.whatsapp_message_ids, messages_before)
        self.assertFalse(self.sent_requests())
        self.assertTrue(self.conversation.waiting_reply)

    def test_inbound_message_and_assignment_notify_the_right_people(self):
        sent = self._bus_payloads()
        self.conversation.user_id = False
        self.lead.user_id = False
        sent.clear()
        self.customer_writes(WA_ID, text="¿Alguien?")
        notified = {target for target, _payload in sent}
        team_partners = (self.salesperson_1 | self.salesperson_2).partner_id
        self.assertTrue(team_partners <= self.env["res.partner"].union(*notified))
        payload = sent[-1][1]
        self.assertEqual(payload["id"], self.conversation.id)
        self.assertEqual(payload["lead_id"], self.lead.id)
        self.assertEqual(payload["unread_count"], self.conversation.unread_count)

        sent.clear()
        self.conversation.user_id = self.salesperson_2
        self.assertEqual([t for t, p in sent if p["event"] == "assigned"],
                         [self.salesperson_2.partner_id])

    def test_unread_counter_is_reset_when_read(self):
        self.conversation.user_id = self.salesperson_1
        as_agent = self.conversation.with_user(self.salesperson_1)
        self.assertEqual(
            self.env["whatsapp.crm.conversation"].with_user(self.salesperson_1)
            .get_inbox_unread_count(), 1)
        as_agent.action_mark_read()
        self.assertEqual(self.conversation.unread_count, 0)

    def test_canned_reply_fills_the_composer_with_resolved_variables(self):
        self.lead.user_id = self.salesperson_1
        reply = self.env["whatsapp.crm.canned.reply"].create({
            "name": "Prices", "shortcut": "prices", "team_id": self.team.id,
            "body": "Hola {{partner_first_name}}, soy {{user_name}} ({{lead_name}}) {{other}}",
        })
        composer = Form(self.env["whatsapp.crm.composer"].with_user(self.salesperson_1)
                        .with_context(active_model="crm.lead", active_ids=self.lead.ids))
        composer.account_id = self.sim_line
        composer.canned_reply_id = reply
        self.assertEqual(
            composer.body, f"Hola Marta, soy Salesperson One ({self.lead.name}) {{{{other}}}}")
        form = Form(self.conversation)
        form.reply_canned_reply_id = reply
        self.assertTrue(form.reply_body.startswith("Hola Marta"))
