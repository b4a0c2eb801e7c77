from .common import WhatsappCrmCase, new_wamid, tagged

WA_ID = "5511987654321"


@tagged("post_install", "-at_install")
class TestStatuses(WhatsappCrmCase):
    def setUp(self):
        super().setUp()
        self.post_ok(self.inbound_payload(WA_ID))
        self.conversation = self.conversation_of(WA_ID)

    def _outbound(self, wamid=None, state="sent"):
        return self.env["whatsapp.crm.message"].create({
            "conversation_id": self.conversation.id,
            "account_id": self.account.id,
            "direction": "out",
            "message_type": "text",
            "body": "Our answer",
            "wamid": wamid,
            "state": state,
        })

    def _status(self, wamid, status, timestamp, **extra):
        return {"id": wamid, "status": status, "timestamp": str(timestamp),
                "recipient_id": WA_ID, **extra}

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
