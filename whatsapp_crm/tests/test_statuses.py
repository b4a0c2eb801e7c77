from .common import WhatsappCrmCase, new_wamid, tagged

WA_ID = "5511987654321"


class StatusCase(WhatsappCrmCase):
    """A customer's conversation, our messages in it, and Meta's statuses of them."""

    def setUp(self):
        super().setUp()
        self.post_ok(self.inbound_payload(WA_ID))
        self.conversation = self.conversation_of(WA_ID)

    def _outbound(self, wamid=None, state="sent", post_to_chatter=False):
        message = self.env["whatsapp.crm.message"].create({
            "conversation_id": self.conversation.id,
            "account_id": self.account.id,
            "direction": "out",
            "message_type": "text",
            "body": "Our answer",
            "wamid": wamid,
            "state": state,
        })
        if post_to_chatter:
            message._post_to_chatter()
        return message

    def _status(self, wamid, status, timestamp, **extra):
        return {"id": wamid, "status": status, "timestamp": str(timestamp),
                "recipient_id": WA_ID, **extra}


@tagged("post_install", "-at_install")
class TestStatuses(StatusCase):

    def test_statuses_move_forward_only(self):
        wamid = new_wamid("wamid.OUT")
        message = self._outbound(wamid)
        self.post_ok(self.status_payload([self._status(wamid, "read", 1767225630)]))
        self.post_ok(self.status_payload([self._status(wamid, "delivered", 1767225620)]))
        self.post_ok(self.status_payload([self._status(wamid, "sent", 1767225610)]))
        self.assertEqual(message.state, "read")
        self.assertEqual(str(message.read_at), "2026-01-01 00:00:30")
        self.assertEqual(str(message.delivered_at), "2026-01-01 00:00:20")

    def test_status_of_a_bsuid_send_carries_only_the_user_id(self):
        wamid = new_wamid("wamid.OUT")
        message = self._outbound(wamid)
        entry = {"id": wamid, "status": "delivered", "timestamp": "1767225620",
                 "recipient_user_id": "BR.1502576394655843"}
        self.post_ok(self.status_payload([entry]))
        self.assertEqual(message.state, "delivered")
        status = self.env["whatsapp.crm.message.status"].search([("wamid", "=", wamid)])
        self.assertEqual((status.recipient_id, status.recipient_user_id),
                         (False, "BR.1502576394655843"))

    def test_all_statuses_of_one_post_are_applied(self):
        first, second = new_wamid("wamid.OUT"), new_wamid("wamid.OUT")
        message_1, message_2 = self._outbound(first), self._outbound(second)
        self.post_ok(self.status_payload([
            self._status(first, "delivered", 1767225620),
            self._status(second, "delivered", 1767225621),
            self._status(second, "read", 1767225622),
        ]))
        self.assertEqual((message_1.state, message_2.state), ("delivered", "read"))

    def test_failed_keeps_its_error_and_is_not_undone(self):
        wamid = new_wamid("wamid.OUT")
        message = self._outbound(wamid)
        error = {"code": 131047, "title": "Re-engagement message", "message": "Re-engagement",
                 "error_data": {"details": "More than 24 hours have passed."}}
        self.post_ok(self.status_payload([self._status(wamid, "failed", 1767225620,
                                                       errors=[error])]))
        self.post_ok(self.status_payload([self._status(wamid, "delivered", 1767225625)]))
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_code, 131047)
        self.assertIn("More than 24 hours", message.error_message)

    def test_status_for_an_unknown_wamid_is_kept_and_reconciled_later(self):
        wamid = new_wamid("wamid.OUT")
        self.post_ok(self.status_payload([
            self._status(wamid, "sent", 1767225610,
                         pricing={"billable": True, "pricing_model": "PMP", "type": "regular",
                                  "category": "utility"}),
            self._status(wamid, "delivered", 1767225620),
        ]))
        kept = self.env["whatsapp.crm.message.status"].search([("wamid", "=", wamid)])
        self.assertEqual(sorted(kept.mapped("status")), ["delivered", "sent"])
        self.assertFalse(kept.message_id)
        self.assertEqual(kept.filtered(lambda s: s.status == "sent").pricing_category, "utility")
        message = self._outbound(wamid, state="queued")
        message._reconcile_statuses()
        self.assertEqual(message.state, "delivered")
        self.assertEqual(kept.message_id, message)

    def test_callback_data_reconciles_a_message_whose_send_response_was_lost(self):
        message = self._outbound(wamid=False, state="queued")
        wamid = new_wamid("wamid.OUT")
        self.post_ok(self.status_payload([self._status(
            wamid, "sent", 1767225610, biz_opaque_callback_data=f"whatsapp.crm.message:{message.id}"
        )]))
        self.assertEqual(message.wamid, wamid)
        self.assertEqual(message.state, "sent")

    def test_duplicate_status_is_recorded_once(self):
        wamid = new_wamid("wamid.OUT")
        self._outbound(wamid)
        status = self._status(wamid, "delivered", 1767225620)
        self.post_ok(self.status_payload([status]))
        self.post_ok(self.status_payload([status, self._status(wamid, "read", 1767225630)]))
        statuses = self.env["whatsapp.crm.message.status"].search([("wamid", "=", wamid)])
        self.assertEqual(sorted(statuses.mapped("status")), ["delivered", "read"])


@tagged("post_install", "-at_install")
class TestStatusBatches(StatusCase):
    """Deferred processing: statuses applied in batches by the processing lanes."""

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].set_param("whatsapp_crm.webhook_processing",
                                                  "deferred")
        self.Event = self.env["whatsapp.crm.webhook.event"]
        # Lanes take the oldest pending events of any account: only this test's count.
        self.Event.search([("state", "=", "pending")]).write({"state": "ignored"})

    def _outbound_with_post(self, wamid):
        return self._outbound(wamid, post_to_chatter=True)

    def test_one_batch_applies_every_status_once(self):
        wamids = [new_wamid("wamid.OUT") for _ in range(3)]
        messages = [self._outbound_with_post(wamid) for wamid in wamids]
        unknown = new_wamid("wamid.OUT")
        failure = {"code": 131026, "title": "Message undeliverable",
                   "error_data": {"details": "Not a WhatsApp user."}}
        payloads = [self._status(wamids[0], "read", 1767225630),  # before its delivered
                    self._status(wamids[0], "delivered", 1767225620),
                    self._status(wamids[1], "delivered", 1767225621),
                    self._status(wamids[1], "delivered", 1767225621, conversation={}),
                    self._status(wamids[2], "failed", 1767225622, errors=[failure]),
                    self._status(unknown, "delivered", 1767225623)]
        for status in payloads:  # one POST each, as Meta sends them
            self.post_ok(self.status_payload([status]))
        events = self.events().filtered(lambda event: event.state == "pending")
        self.assertEqual(set(events.mapped("kind")), {"status"})
        self.assertEqual(set(events.mapped("state")), {"pending"})

        self.assertEqual(self.Event._process_status_batch(), len(events))
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual([m.state for m in messages], ["read", "delivered", "failed"])
        self.assertEqual(str(messages[0].delivered_at), "2026-01-01 00:00:20")
        self.assertEqual((messages[2].error_code, messages[2].failed_rate), (131026, 100))
        self.assertIn("Not a WhatsApp user", messages[2].error_message)
        Status = self.env["whatsapp.crm.message.status"]
        self.assertEqual(Status.search_count([("wamid", "=", wamids[1])]), 1)
        self.assertFalse(Status.search([("wamid", "=", unknown)]).message_id,
                         "kept for reconciliation")
        notifications = messages[2].mail_message_ids.notification_ids
        self.assertEqual(set(notifications.mapped("notification_status")), {"exception"})
        self.assertEqual(set(messages[0].mail_message_ids.notification_ids.mapped(
            "notification_status")), {"sent"})
        # The message that was unknown gets its wamid: its status is applied then.
        late = self._outbound_with_post(False)
        late.write({"wamid": unknown})
        late._reconcile_statuses()
        self.assertEqual(late.state, "delivered")

    def test_a_customer_message_is_processed_before_waiting_statuses(self):
        wamid = new_wamid("wamid.OUT")
        self._outbound_with_post(wamid)
        for status, timestamp in (("delivered", 1767225620), ("read", 1767225630)):
            self.post_ok(self.status_payload([self._status(wamid, status, timestamp)]))
        self.post_ok(self.inbound_payload(WA_ID, text={"body": "¿Hay novedades?"}))
        pending = self.events().filtered(lambda event: event.state == "pending")
        statuses = pending.filtered(lambda event: event.kind == "status")
        message = pending.filtered(lambda event: event.kind == "message")
        self.assertLess(statuses[-1].id, message.id)
        self.assertEqual(self.Event._process_next_event(), 1)
        self.assertEqual(message.state, "done")
        self.assertEqual(set(statuses.mapped("state")), {"pending"})
        self.Event._cron_process_pending()
        self.assertEqual(set(statuses.mapped("state")), {"done"})

    def test_one_trigger_per_wake_up_not_per_request(self):
        lane = self.env.ref("whatsapp_crm.ir_cron_process_webhook_events")
        Trigger = self.env["ir.cron.trigger"]
        Trigger.search([("cron_id", "=", lane.id)]).unlink()
        for index in range(5):
            self.post_ok(self.status_payload([self._status(new_wamid(), "sent", 1767225600
                                                           + index)]))
        self.assertEqual(Trigger.search_count([("cron_id", "=", lane.id)]), 1)
