from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger

from ..lib import errors as api_errors
from .common import WhatsappCrmCase, envelope, tagged

WA_ID = "5511987654321"


@tagged("post_install", "-at_install")
class TestConsent(WhatsappCrmCase):
    def send_text(self, text, wa_id=WA_ID):
        self.post_ok(self.inbound_payload(wa_id, text={"body": text}))
        return self.messages_of(wa_id)[-1:]

    def preference_payload(self, wa_id, value, category="marketing_messages"):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.account.display_phone_number,
                "phone_number_id": self.account.phone_number_id,
            },
            "user_preferences": [
                {"wa_id": wa_id, "category": category, "value": value, "timestamp": 1767225600}
            ],
        }
        return envelope([("user_preferences", value)], self.account.waba_id)

    def test_opt_out_keywords_in_english_spanish_and_portuguese(self):
        texts = ["Stop.", "¡Baja!", "sair", "  no más ", "Cancelar inscrição"]
        for index, text in enumerate(texts):
            wa_id = f"55119000000{index:02d}"
            message = self.send_text(text, wa_id)
            partner = message.partner_id
            self.assertEqual(partner.whatsapp_opt_in, "opted_out", text)
            self.assertEqual(partner.whatsapp_opt_in_source, "inbound_keyword", text)
            self.assertEqual(partner.whatsapp_opt_in_proof, text)
            self.assertFalse(partner._whatsapp_can_receive_marketing())

    def test_a_sentence_containing_stop_does_not_opt_out(self):
        for text in ("Please don't stop sending me offers", "stop it now", "Hello"):
            message = self.send_text(text)
            self.assertEqual(message.partner_id.whatsapp_opt_in, "unknown", text)
        self.assertFalse(message.partner_id.whatsapp_consent_log_ids)

    def test_opt_in_keyword_after_opt_out_keeps_the_history(self):
        stop = self.send_text("STOP")
        start = self.send_text("Start!")
        partner = start.partner_id
        self.assertEqual(partner.whatsapp_opt_in, "opted_in")
        self.assertTrue(partner._whatsapp_can_receive_marketing())
        system = self.env.ref("base.user_root")
        self.assertRecordValues(
            partner.whatsapp_consent_log_ids.sorted("id"),
            [
                {"state": "opted_out", "previous_state": "unknown", "source": "inbound_keyword",
                 "message_id": stop.id, "user_id": system.id, "proof": "STOP",
                 "company_id": self.company.id},
                {"state": "opted_in", "previous_state": "opted_out", "source": "inbound_keyword",
                 "message_id": start.id, "user_id": system.id, "proof": "Start!",
                 "company_id": self.company.id},
            ],
        )
        self.assertTrue(all(log.date for log in partner.whatsapp_consent_log_ids))

    def test_chatter_note_and_no_op_on_unchanged_state(self):
        self.send_text("stop")
        partner = self.messages_of(WA_ID).partner_id
        notes = partner.message_ids.filtered(lambda m: "WhatsApp marketing consent" in m.body)
        self.assertEqual(len(notes), 1)
        self.assertIn("Opted Out", notes.body)
        self.assertIn("Inbound Keyword", notes.body)
        self.assertTrue(notes.subtype_id.internal)
        self.send_text("UNSUBSCRIBE")
        self.assertEqual(len(partner.whatsapp_consent_log_ids), 1)
        self.assertFalse(partner._whatsapp_set_consent("opted_out", "manual"))
        self.assertEqual(len(partner.whatsapp_consent_log_ids), 1)
        notes = partner.message_ids.filtered(lambda m: "WhatsApp marketing consent" in m.body)
        self.assertEqual(len(notes), 1)

    def test_template_quick_reply_button(self):
        self.post_ok(
            self.inbound_payload(
                WA_ID, type="button", button={"payload": "STOP_PROMO", "text": "Stop promotions"}
            )
        )
        message = self.messages_of(WA_ID)
        self.assertEqual(message.partner_id.whatsapp_opt_in, "opted_out")
        self.assertEqual(message.partner_id.whatsapp_consent_log_ids.message_id, message)

    def test_interactive_reply_title_matches(self):
        self.post_ok(
            self.inbound_payload(
                WA_ID, type="interactive",
                interactive={"type": "button_reply",
                             "button_reply": {"id": "btn-2", "title": "Suscribir"}},
            )
        )
        self.assertEqual(self.messages_of(WA_ID).partner_id.whatsapp_opt_in, "opted_in")

    def test_user_preferences_stop_and_resume(self):
        partner = self.send_text("Hi").partner_id
        self.post_ok(self.preference_payload(WA_ID, "stop"))
        self.assertEqual(partner.whatsapp_opt_in, "opted_out")
        self.assertEqual(partner.whatsapp_opt_in_source, "user_preference")
        self.assertIn('"stop"', partner.whatsapp_opt_in_proof)
        self.post_ok(self.preference_payload(WA_ID, "resume"))
        self.assertEqual(partner.whatsapp_opt_in, "opted_in")
        logs = partner.whatsapp_consent_log_ids.sorted("id")
        self.assertEqual(logs.mapped("source"), ["user_preference", "user_preference"])
        self.assertFalse(logs.message_id)
        self.assertEqual(logs.user_id, self.env.ref("base.user_root"))
        self.assertEqual(self.events()[-1].state, "done")

    def test_user_preferences_for_an_unknown_number_is_kept_on_the_account(self):
        self.post_ok(self.preference_payload("5511900009999", "stop"))
        self.assertEqual(self.events()[-1].state, "done")
        self.assertFalse(self.env["whatsapp.crm.consent.log"].search(
            [("proof", "ilike", "5511900009999")]))
        note = self.account.message_ids[:1]
        self.assertIn("5511900009999", note.body)
        self.assertIn("unknown contact", note.body)

    def test_meta_opt_out_error_131050(self):
        message = self.send_text("Hi")
        partner = message.partner_id
        other = api_errors.CloudApiError("Re-engagement message", code=131047)
        self.assertFalse(partner._whatsapp_record_meta_opt_out(message, other))
        error = api_errors.OptOutError(
            "User has stopped marketing messages", code=131050, title="Marketing opt out"
        )
        self.assertEqual(partner._whatsapp_record_meta_opt_out(message, error), partner)
        self.assertRecordValues(partner, [{"whatsapp_opt_in": "opted_out",
                                           "whatsapp_opt_in_source": "meta_error"}])
        log = partner.whatsapp_consent_log_ids
        self.assertEqual(log.message_id, message)
        self.assertIn("131050", log.proof)
        self.assertFalse(partner._whatsapp_record_meta_opt_out(message, {"code": 131050}))

    def test_manual_change_goes_through_the_door_and_logs_cannot_be_edited(self):
        partner = self.env["res.partner"].create(
            {"name": "Imported", "whatsapp_opt_in": "opted_in"}
        )
        log = partner.whatsapp_consent_log_ids
        self.assertRecordValues(log, [{"state": "opted_in", "source": "manual",
                                       "user_id": self.env.user.id}])
        partner.with_user(self.salesperson_1).action_whatsapp_opt_out()
        self.assertEqual(partner.whatsapp_opt_in, "opted_out")
        self.assertEqual(partner.whatsapp_consent_log_ids.sorted("id")[-1].user_id,
                         self.salesperson_1)
        with self.assertRaises(UserError):
            log.write({"state": "opted_out"})
        as_user = self.env["whatsapp.crm.consent.log"].with_user(self.salesperson_1)
        self.assertEqual(len(as_user.search([("partner_id", "=", partner.id)])), 2)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            as_user.create({"partner_id": partner.id, "state": "opted_in", "source": "manual"})
        keyword = self.env["whatsapp.crm.consent.keyword"].with_user(self.salesperson_1)
        self.assertTrue(keyword.search_count([("normalized_name", "=", "baja")]))
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            keyword.create({"name": "PARE YA", "language": "es"})

    def test_custom_keyword_and_archived_keyword(self):
        Keyword = self.env["whatsapp.crm.consent.keyword"]
        Keyword.create({"name": "Não quero mais", "language": "pt", "action": "opt_out"})
        self.env.ref("whatsapp_crm.consent_keyword_en_opt_out_stop").action_archive()
        self.send_text("stop")
        partner = self.messages_of(WA_ID).partner_id
        self.assertEqual(partner.whatsapp_opt_in, "unknown")
        self.send_text("NAO QUERO MAIS!")
        self.assertEqual(partner.whatsapp_opt_in, "opted_out")
