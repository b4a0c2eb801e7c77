from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from .common import WhatsappCrmCase, tagged

WA_ID = "5511987654321"
INBOUND = "odoo.addons.whatsapp_crm.models.whatsapp_crm_message.WhatsappCrmMessage"


@tagged("post_install", "-at_install")
class TestWebhookEvents(WhatsappCrmCase):
    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_processing_failure_keeps_the_event_in_error_with_its_traceback(self):
        with patch(f"{INBOUND}._process_inbound", side_effect=RuntimeError("database on fire")):
            response = self.post_payload(self.inbound_payload(WA_ID))
        self.assertEqual(response.status_code, 200)  # stored: Meta must not resend it
        event = self.events()
        self.assertEqual(event.state, "error")
        self.assertIn("Traceback", event.error)
        self.assertIn("database on fire", event.error)
        self.assertEqual(event.attempts, 1)
        self.assertFalse(self.messages_of(WA_ID))

        # The scheduled action retries it once the backoff has passed.
        event.next_attempt_at = "2000-01-01 00:00:00"
        self.env["whatsapp.crm.webhook.event"]._cron_process_pending()
        self.assertEqual(event.state, "done")
        self.assertEqual(event.attempts, 2)
        self.assertEqual(len(self.messages_of(WA_ID)), 1)

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_one_failing_item_does_not_lose_the_others(self):
        messages = [
            self.inbound_message(WA_ID, type="text", text={"body": "good"}),
            self.inbound_message("5511900001111", type="text", text={"body": "bad"}),
        ]
        payload = self.inbound_payload(WA_ID, messages=messages)
        original = type(self.env["whatsapp.crm.message"])._process_inbound

        def fail_for_one_customer(model, item, account):
            if item.from_wa_id == "5511900001111":
                raise ValueError("bad customer")
            return original(model, item, account)

        with patch(f"{INBOUND}._process_inbound", fail_for_one_customer):
            self.post_ok(payload)
        self.assertEqual(self.messages_of(WA_ID).body, "good")
        self.assertEqual(self.events().state, "error")
        self.events().action_replay()
        self.assertEqual(self.events().state, "done")
        self.assertEqual(self.messages_of("5511900001111").body, "bad")
        self.assertEqual(len(self.messages_of(WA_ID)), 1)

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_cron_gives_up_after_the_maximum_attempts(self):
        with patch(f"{INBOUND}._process_inbound", side_effect=RuntimeError("always")):
            self.post_ok(self.inbound_payload(WA_ID))
            event = self.events()
            for _attempt in range(10):
                if event.next_attempt_at:  # time passes until the next attempt is due
                    event.next_attempt_at = "2000-01-01 00:00:00"
                self.env["whatsapp.crm.webhook.event"]._cron_process_pending()
        self.assertEqual(event.attempts, 6)
        self.assertEqual(event.state, "error")
        self.assertFalse(event.next_attempt_at, "no further attempt is planned")

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_a_due_failed_event_is_not_starved_by_ones_not_due(self):
        Event = self.env["whatsapp.crm.webhook.event"]
        with patch(f"{INBOUND}._process_inbound", side_effect=RuntimeError("later")):
            for index in range(5):
                self.post_ok(self.inbound_payload(f"55119000022{index:02d}"))
        later = self.events()
        self.assertEqual(set(later.mapped("state")), {"error"})
        self.assertTrue(all(event.next_attempt_at for event in later))
        self.post_ok(self.inbound_payload(WA_ID))
        due = self.events() - later
        due.write({"state": "error", "next_attempt_at": "2000-01-01 00:00:00"})
        # The oldest events are not due: the limit applies to due events only.
        self.assertEqual(Event._due_for_retry(limit=1), due)
        cron = self.env.ref("whatsapp_crm.ir_cron_process_webhook_events")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertIn(later[0].next_attempt_at, triggers.mapped("call_at"),
                      "the job is woken when the retry is due, not at its next poll")

    def test_deferred_mode_answers_first_and_the_cron_processes(self):
        self.env["ir.config_parameter"].set_param("whatsapp_crm.webhook_processing", "deferred")
        cron = self.env.ref("whatsapp_crm.ir_cron_process_webhook_events")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.post_ok(self.inbound_payload(WA_ID, text={"body": "later"}))
        event = self.events()
        self.assertEqual(event.state, "pending")
        self.assertFalse(self.messages_of(WA_ID))
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers_before + 1,
        )
        self.env["whatsapp.crm.webhook.event"]._cron_process_pending()
        self.assertEqual(event.state, "done")
        self.assertEqual(self.messages_of(WA_ID).body, "later")

    def test_only_managers_can_replay(self):
        self.post_ok(self.inbound_payload(WA_ID))
        event = self.events()
        with self.assertRaises(UserError):
            event.with_user(self.salesperson_1).action_replay()

    def test_an_event_still_conflicting_after_its_replays_counts_an_attempt(self):
        self.env["ir.config_parameter"].set_param("whatsapp_crm.webhook_processing", "deferred")
        self.post_ok(self.inbound_payload(WA_ID))
        event = self.events()
        conflict = psycopg2.errors.SerializationFailure("could not serialize access")
        cr = self.env.cr
        # Outside tests each replay is its own transaction; here they are no-ops.
        with patch.object(type(event), "_process_locked", side_effect=conflict) as process, \
                patch.object(cr, "commit"), patch.object(cr, "rollback"), \
                mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event"):
            event._process_replaying(auto_commit=True)
        self.assertEqual(process.call_count, 4)
        self.assertEqual(event.state, "error")
        self.assertEqual(event.attempts, 1)
        self.assertTrue(event.next_attempt_at, "the retry job takes it later")
        self.assertIn("could not serialize", event.error)


@tagged("post_install", "-at_install")
class TestRetryWakeUp(WhatsappCrmCase):
    """A retry due in seconds wakes the cron workers then, not at their next minute poll."""

    def _schedule(self, seconds):
        cron = self.env.ref("whatsapp_crm.ir_cron_send_queue")
        when = fields.Datetime.now() + timedelta(seconds=seconds)
        timers = []

        class FakeTimer:
            def __init__(self, delay, function, args=()):
                timers.append((delay, function, args))
                self.daemon = False

            def start(self):
                pass

        callbacks = []
        with patch("odoo.addons.whatsapp_crm.models.ir_cron.threading.Timer", FakeTimer), \
                patch("odoo.addons.whatsapp_crm.models.ir_cron.modules.module.current_test",
                      False), \
                patch.object(type(self.env.cr.postcommit), "add",
                             lambda _self, callback: callbacks.append(callback)):
            cron._whatsapp_crm_trigger_at(when)
            for callback in callbacks:  # the transaction commits
                callback()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id),
                                                       ("call_at", "=", when)])
        return triggers, timers

    def test_a_retry_in_five_seconds_gets_a_wake_up_call(self):
        triggers, timers = self._schedule(5)
        self.assertEqual(len(triggers), 1, "the durable trigger row")
        self.assertEqual(len(timers), 1)
        self.assertAlmostEqual(timers[0][0], 5, delta=1)

    def test_a_retry_in_an_hour_waits_for_the_regular_poll(self):
        triggers, timers = self._schedule(3600)
        self.assertEqual(len(triggers), 1)
        self.assertEqual(timers, [])
