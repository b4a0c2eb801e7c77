import json

from odoo.tools import mute_logger

from .common import WhatsappCrmCase, new_wamid, tagged


@tagged("post_install", "-at_install")
class TestWebhookSecurity(WhatsappCrmCase):
    def test_handshake_answers_the_challenge_for_a_known_verify_token(self):
        token = self.account.verify_token
        response = self.url_open(
            f"/whatsapp_crm/webhook?hub.mode=subscribe&hub.verify_token={token}"
            "&hub.challenge=1158201444"
        )
        self.assertEqual((response.status_code, response.text), (200, "1158201444"))

    @mute_logger("odoo.addons.whatsapp_crm.controllers.main")
    def test_handshake_refuses_a_wrong_token_or_mode(self):
        for query in (
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            f"hub.mode=unsubscribe&hub.verify_token={self.account.verify_token}&hub.challenge=1",
            "hub.mode=subscribe&hub.challenge=1",
        ):
            response = self.url_open(f"/whatsapp_crm/webhook?{query}")
            self.assertEqual(response.status_code, 403, query)

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_forged_missing_or_foreign_signatures_are_refused_and_nothing_is_stored(self):
        payload = self.inbound_payload("5511987654321")
        raw = json.dumps(payload).encode()
        cases = {
            "forged": {"signature": "sha256=" + "0" * 64},
            "missing": {"secret": None},
            "other secret": {"secret": "not-the-app-secret"},
            "not hex": {"signature": "sha256=zz"},
            "no prefix": {"signature": "0" * 64},
        }
        for label, kwargs in cases.items():
            response = self.post_raw(raw, **kwargs)
            self.assertEqual(response.status_code, 403, label)
        self.assertFalse(self.events())
        self.assertFalse(self.messages_of("5511987654321"))

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_signature_is_checked_over_the_raw_bytes(self):
        # Non-ASCII text: a body re-serialised by a JSON library would differ.
        payload = self.inbound_payload(
            "5511987654321", type="text", text={"body": "Olá, ação 😀"}
        )
        raw = json.dumps(payload, ensure_ascii=False).encode()
        escaped = json.dumps(payload, ensure_ascii=True).encode()
        from ..lib.webhook import compute_signature

        signature_of_escaped = compute_signature("test-app-secret", escaped)
        self.assertEqual(self.post_raw(raw, signature=signature_of_escaped).status_code, 403)
        self.assertEqual(self.post_raw(raw).status_code, 200)
        self.assertEqual(self.messages_of("5511987654321").body, "Olá, ação 😀")

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_webhook_event")
    def test_payload_for_a_phone_number_we_do_not_own_is_refused(self):
        payload = self.inbound_payload("5511987654321")
        payload["entry"][0]["id"] = "999"
        payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999"
        self.assertEqual(self.post_payload(payload).status_code, 403)
        self.assertFalse(self.events())

    def test_change_for_a_foreign_number_inside_our_payload_is_not_processed(self):
        payload = self.inbound_payload("5511911112222")
        foreign = self.messages_value(
            [self.inbound_message("5511933334444", type="text", text={"body": "x"})]
        )
        foreign["metadata"]["phone_number_id"] = "777777"
        payload["entry"][0]["changes"].append({"field": "messages", "value": foreign})
        self.post_ok(payload)
        self.assertTrue(self.messages_of("5511911112222"))
        self.assertFalse(
            self.env["whatsapp.crm.conversation"].search([("wa_id", "=", "5511933334444")])
        )
        self.assertIn("1 skipped", self.events().summary)

    def test_malformed_json_with_a_valid_signature_is_stored_not_processed(self):
        raw = b'{"object": "whatsapp_business_account", "entry": [ broken'
        response = self.post_raw(raw)
        self.assertEqual(response.status_code, 200)
        event = self.events()
        self.assertEqual(event.state, "ignored")
        self.assertIn("Malformed", event.error)
        self.assertEqual(event.payload, raw.decode())

    def test_huge_body_is_refused_before_reading(self):
        raw = b"{" + b" " * (9 * 1024 * 1024) + b"}"
        response = self.post_raw(raw)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.events())

    def test_same_payload_twice_gives_one_event_and_one_message(self):
        payload = self.inbound_payload("5511987654321", wamid=new_wamid())
        self.post_ok(payload)
        self.post_ok(payload)
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(len(self.messages_of("5511987654321")), 1)

    def test_same_wamid_in_a_rebatched_payload_gives_one_message(self):
        wamid = new_wamid()
        first = self.inbound_payload("5511987654321", wamid=wamid, text={"body": "one"})
        rebatched = self.inbound_payload(
            "5511987654321",
            messages=[
                self.inbound_message("5511987654321", wamid=wamid, type="text",
                                     text={"body": "one"}),
                self.inbound_message("5511987654321", type="text", text={"body": "two"}),
            ],
        )
        self.post_ok(first)
        self.post_ok(rebatched)
        self.assertEqual(len(self.events()), 2)
        self.assertEqual(self.messages_of("5511987654321").mapped("body"), ["one", "two"])
        self.assertEqual(len(self.conversation_of("5511987654321")), 1)
