from odoo.tools import mute_logger

from .common import WhatsappCrmCase, envelope, new_wamid, tagged

WA_ID = "5511987654321"


@tagged("post_install", "-at_install")
class TestInboundMessages(WhatsappCrmCase):
    def test_first_text_creates_contact_conversation_lead_and_chatter(self):
        self.post_ok(
            self.inbound_payload(WA_ID, name="Ana Lima", text={"body": "Is SO042 shipped?"})
        )
        message = self.messages_of(WA_ID)
        self.assertRecordValues(
            message,
            [{"direction": "in", "state": "received", "message_type": "text",
              "body": "Is SO042 shipped?"}],
        )
        partner = message.partner_id
        self.assertEqual(partner.name, "Ana Lima")
        self.assertEqual(partner.phone_sanitized, "+5511987654321")
        self.assertEqual(partner.whatsapp_wa_id, WA_ID)
        conversation = message.conversation_id
        self.assertEqual(conversation.partner_id, partner)
        self.assertTrue(conversation.window_open)
        lead = conversation.lead_id
        self.assertEqual(message.lead_id, lead)
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(lead.source_id, self.env.ref("whatsapp_crm.utm_source_whatsapp"))
        self.assertEqual(lead.medium_id, self.env.ref("whatsapp_crm.utm_medium_whatsapp"))
        self.assertEqual(lead.team_id, self.team)
        self.assertIn(lead.user_id, self.salesperson_1 | self.salesperson_2)
        for record in (lead, conversation):
            posted = record.message_ids.filtered(lambda m: m.whatsapp_crm_message_id == message)
            self.assertEqual(len(posted), 1, record._name)
            self.assertEqual(posted.author_id, partner)
            self.assertEqual(posted.message_type, "whatsapp_crm")
            self.assertIn("Is SO042 shipped?", posted.body)
            self.assertFalse(posted.notification_ids, "nobody is notified of an inbound post")
        # The contact, readable by every employee, shows the conversation, not its text.
        self.assertFalse(partner.message_ids.filtered("whatsapp_crm_message_id"))
        self.assertFalse(self.env["mail.mail"].search([("mail_message_id", "in",
                                                       message.mail_message_ids.ids)]))
        self.assertEqual(lead.whatsapp_window_state, "open")
        self.assertEqual(partner.whatsapp_window_state, "open")
        self.assertEqual(partner.whatsapp_conversation_count, 1)

    def test_second_message_reuses_contact_conversation_and_lead(self):
        self.post_ok(self.inbound_payload(WA_ID, text={"body": "one"}))
        self.post_ok(self.inbound_payload(WA_ID, text={"body": "two"}))
        messages = self.messages_of(WA_ID)
        self.assertEqual(len(messages), 2)
        self.assertEqual(len(messages.conversation_id), 1)
        self.assertEqual(len(messages.lead_id), 1)
        self.assertEqual(self.env["res.partner"].search_count([("whatsapp_wa_id", "=", WA_ID)]), 1)

    def test_html_and_script_in_text_are_escaped_in_the_chatter(self):
        evil = '<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b>'
        self.post_ok(self.inbound_payload(WA_ID, text={"body": evil}))
        message = self.messages_of(WA_ID)
        self.assertEqual(message.body, evil)
        posted = message.mail_message_ids[:1]
        self.assertNotIn("<script", posted.body)
        self.assertNotIn("<img", posted.body)
        self.assertNotIn("<b>", posted.body)
        self.assertIn("&lt;script&gt;", posted.body)

    @mute_logger("odoo.addons.whatsapp_crm.models.whatsapp_crm_message")
    def test_every_message_type_is_stored(self):
        samples = {
            "text": {"text": {"body": "hi"}},
            "image": {"image": {"id": "m1", "mime_type": "image/jpeg", "sha256": "x",
                                "caption": "my photo"}},
            "video": {"video": {"id": "m2", "mime_type": "video/mp4"}},
            "audio": {"audio": {"id": "m3", "mime_type": "audio/ogg; codecs=opus", "voice": True}},
            "document": {"document": {"id": "m4", "mime_type": "application/pdf",
                                      "filename": "quote.pdf", "caption": "the quote"}},
            "sticker": {"sticker": {"id": "m5", "mime_type": "image/webp", "animated": False}},
            "location": {"location": {"latitude": -23.5, "longitude": -46.6,
                                      "name": "Office", "address": "Av. Paulista"}},
            "contacts": {"contacts": [{"name": {"formatted_name": "Bruno Souza"},
                                       "phones": [{"phone": "+55 11 91234-5678"}]}]},
            "interactive": {"interactive": {"type": "button_reply",
                                            "button_reply": {"id": "yes", "title": "Yes please"}}},
            "button": {"button": {"payload": "STOP_PROMO", "text": "Stop promotions"}},
            "reaction": {"reaction": {"message_id": "wamid.OUT1", "emoji": "👍"}},
            "order": {"order": {"catalog_id": "c1", "product_items": [
                {"product_retailer_id": "sku1", "quantity": 2, "item_price": 10,
                 "currency": "BRL"}]}},
            # A number change moves the conversation (test_identity); this one does not.
            "system": {"system": {"body": "User identity changed",
                                  "type": "customer_identity_changed"}},
            "unsupported": {"errors": [{"code": 131051, "title": "Message type unknown"}]},
        }
        messages = [
            self.inbound_message(WA_ID, type=message_type, **fields)
            for message_type, fields in samples.items()
        ]
        self.post_ok(self.inbound_payload(WA_ID, messages=messages))
        stored = self.messages_of(WA_ID)
        self.assertEqual(stored.mapped("message_type"), list(samples))
        by_type = {message.message_type: message for message in stored}
        self.assertEqual(by_type["image"].body, "my photo")
        self.assertEqual(by_type["image"].media_id, "m1")
        self.assertIn(by_type["image"].media_state, ("pending", "failed"))
        self.assertEqual(by_type["document"].media_filename, "quote.pdf")
        self.assertIn("Av. Paulista", by_type["location"].body)
        self.assertIn("Bruno Souza", by_type["contacts"].body)
        self.assertEqual(by_type["interactive"].interactive_reply_id, "yes")
        self.assertEqual(by_type["button"].interactive_reply_id, "STOP_PROMO")
        self.assertEqual(by_type["reaction"].reaction_emoji, "👍")
        self.assertEqual(by_type["reaction"].reaction_to_wamid, "wamid.OUT1")
        self.assertEqual(by_type["unsupported"].error_code, 131051)
        self.assertEqual(len(stored.mail_message_ids), 2 * len(samples))

    def test_unknown_message_type_is_stored_as_unsupported(self):
        message = self.inbound_message(WA_ID, type="hologram", hologram={"beam": 1})
        self.post_ok(self.inbound_payload(WA_ID, messages=[message]))
        stored = self.messages_of(WA_ID)
        self.assertEqual(stored.message_type, "unsupported")
        self.assertEqual(stored.original_type, "hologram")
        self.assertEqual(self.events().state, "done")

    def test_reply_context_links_the_quoted_message(self):
        first = new_wamid()
        self.post_ok(self.inbound_payload(WA_ID, wamid=first, text={"body": "original"}))
        self.post_ok(self.inbound_payload(
            WA_ID, text={"body": "answer"}, context={"from": WA_ID, "id": first, "forwarded": True}
        ))
        original, answer = self.messages_of(WA_ID)
        self.assertEqual(answer.reply_to_id, original)
        self.assertTrue(answer.forwarded)

    def test_every_entry_change_and_message_of_a_batch_is_processed(self):
        customers = ["5511911110001", "5511911110002", "5511911110003"]
        value_1 = self.messages_value(
            [self.inbound_message(customers[0], type="text", text={"body": f"m{i}"})
             for i in range(3)],
            contacts=[{"profile": {"name": "C1"}, "wa_id": customers[0]}],
        )
        value_2 = self.messages_value(
            [self.inbound_message(customers[1], type="text", text={"body": "x"}),
             self.inbound_message(customers[2], type="text", text={"body": "y"})],
            contacts=[{"profile": {"name": "C2"}, "wa_id": customers[1]},
                      {"profile": {"name": "C3"}, "wa_id": customers[2]}],
        )
        payload = envelope([("messages", value_1)], self.account.waba_id)
        payload["entry"].append(envelope([("messages", value_2)], self.account.waba_id)["entry"][0])
        self.post_ok(payload)
        self.assertEqual(len(self.messages_of(customers[0])), 3)
        self.assertEqual(self.messages_of(customers[1]).partner_id.name, "C2")
        self.assertEqual(self.messages_of(customers[2]).partner_id.name, "C3")
        self.assertIn("5 handled", self.events().summary)

    def test_click_to_whatsapp_referral_is_stored_on_the_lead(self):
        referral = {
            "source_url": "https://fb.me/ad1", "source_id": "120200000001", "source_type": "ad",
            "headline": "Winter sale", "body": "Ask us", "media_type": "image",
            "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
        }
        self.post_ok(self.inbound_payload(WA_ID, text={"body": "I saw your ad"}, referral=referral))
        lead = self.messages_of(WA_ID).lead_id
        self.assertEqual(lead.whatsapp_ad_source_id, "120200000001")
        self.assertEqual(lead.whatsapp_ad_headline, "Winter sale")
        self.assertEqual(lead.whatsapp_ad_ctwa_clid, "ARAkLkA8rmlFeiCktEJQ")
        self.assertEqual(lead.whatsapp_referral["source_url"], "https://fb.me/ad1")

    def test_window_closes_24_hours_after_the_last_customer_message(self):
        self.post_ok(self.inbound_payload(WA_ID, timestamp="1767225600"))
        conversation = self.conversation_of(WA_ID)
        self.assertEqual(str(conversation.last_inbound_at), "2026-01-01 00:00:00")
        self.assertEqual(str(conversation.window_expires_at), "2026-01-02 00:00:00")
        self.assertFalse(conversation.window_open)  # 2026-01-01 is in the past now
        self.assertEqual(conversation.lead_id.whatsapp_window_state, "closed")
        # An older message delivered late does not move the window back.
        self.post_ok(self.inbound_payload(WA_ID, timestamp="1767139200"))
        self.assertEqual(str(conversation.window_expires_at), "2026-01-02 00:00:00")
