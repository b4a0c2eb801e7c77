from .common import WhatsappCrmCase, tagged


@tagged("post_install", "-at_install")
class TestInboundMatching(WhatsappCrmCase):
    def _partner_for(self, wa_id):
        self.post_ok(self.inbound_payload(wa_id, name="Someone Else"))
        return self.messages_of(wa_id).partner_id

    def test_existing_contact_with_a_formatted_phone_is_found(self):
        partner = self.env["res.partner"].create({"name": "Carla", "phone": "+55 (11) 98765-4321"})
        self.assertEqual(self._partner_for("5511987654321"), partner)

    def test_brazil_contact_saved_with_the_ninth_digit_matches_an_old_wa_id(self):
        partner = self.env["res.partner"].create({"name": "Davi", "phone": "+55 11 98765 4321"})
        self.assertEqual(self._partner_for("551187654321"), partner)

    def test_brazil_contact_saved_without_the_ninth_digit_matches_a_new_wa_id(self):
        partner = self.env["res.partner"].create({"name": "Eva", "phone": "+55 11 8765 4321"})
        self.assertEqual(self._partner_for("5511987654321"), partner)

    def test_mexico_521_matches_a_contact_saved_with_52(self):
        partner = self.env["res.partner"].create({"name": "Fer", "phone": "+52 55 1234 5678"})
        self.assertEqual(self._partner_for("5215512345678"), partner)

    def test_argentina_549_matches_a_contact_saved_with_54(self):
        partner = self.env["res.partner"].create({"name": "Gabi", "phone": "+54 11 2345 6789"})
        self.assertEqual(self._partner_for("5491123456789"), partner)

    def test_contact_known_only_by_wa_id_is_found(self):
        partner = self.env["res.partner"].create({"name": "Hugo", "whatsapp_wa_id": "447700900123"})
        self.assertEqual(self._partner_for("447700900123"), partner)

    def test_variants_of_one_customer_share_one_conversation(self):
        self.post_ok(self.inbound_payload("5215512345678"))
        self.post_ok(self.inbound_payload("525512345678"))
        conversations = self.env["whatsapp.crm.conversation"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(len(conversations), 1)
        self.assertEqual(len(conversations.whatsapp_message_ids), 2)

    def test_contact_salesperson_gets_the_new_lead(self):
        self.env["res.partner"].create(
            {"name": "Ivo", "phone": "+5511955554444", "user_id": self.salesperson_2.id}
        )
        self.post_ok(self.inbound_payload("5511955554444"))
        self.assertEqual(self.messages_of("5511955554444").lead_id.user_id, self.salesperson_2)

    def test_new_leads_go_round_robin_in_the_team(self):
        owners = []
        for index in range(4):
            wa_id = f"55119000000{index:02d}"
            self.post_ok(self.inbound_payload(wa_id, name=f"Customer {index}"))
            owners.append(self.messages_of(wa_id).lead_id.user_id)
        self.assertEqual(owners[0], owners[2])
        self.assertEqual(owners[1], owners[3])
        self.assertNotEqual(owners[0], owners[1])
        self.assertEqual(set(owners), {self.salesperson_1, self.salesperson_2})

    def test_open_lead_of_the_customer_is_reused(self):
        partner = self.env["res.partner"].create({"name": "Julia", "phone": "+5511966665555"})
        lead = self.env["crm.lead"].create({"name": "Existing deal", "partner_id": partner.id})
        self.post_ok(self.inbound_payload("5511966665555"))
        self.assertEqual(self.messages_of("5511966665555").lead_id, lead)
        self.assertEqual(self.env["crm.lead"].search_count([("partner_id", "=", partner.id)]), 1)

    def test_won_lead_is_not_reused(self):
        partner = self.env["res.partner"].create({"name": "Kai", "phone": "+5511977776666"})
        won = self.env["crm.lead"].create({"name": "Done deal", "partner_id": partner.id})
        won.action_set_won()
        self.post_ok(self.inbound_payload("5511977776666"))
        new_lead = self.messages_of("5511977776666").lead_id
        self.assertTrue(new_lead)
        self.assertNotEqual(new_lead, won)

    def test_account_without_lead_creation_only_creates_the_contact(self):
        self.account.create_lead = False
        self.post_ok(self.inbound_payload("5511988887777", name="Lia"))
        message = self.messages_of("5511988887777")
        self.assertEqual(message.partner_id.name, "Lia")
        self.assertFalse(message.lead_id)
        self.assertEqual(len(message.mail_message_ids), 1)
