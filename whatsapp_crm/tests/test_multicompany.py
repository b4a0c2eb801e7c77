from odoo.exceptions import AccessError

from .common import WhatsappCrmCase, tagged


@tagged("post_install", "-at_install")
class TestMultiCompany(WhatsappCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.account_b = cls._new_account(
            name="Line B",
            waba_id="300000000000003",
            phone_number_id="400000000000004",
            display_phone_number="15550002222",
            app_secret="secret-of-b",
            company=cls.company_b,
        )
        cls.salesperson_b = cls._new_salesperson("wa_sales_b", "Seller B", company=cls.company_b)

    def test_each_account_files_messages_under_its_own_company(self):
        self.post_ok(self.inbound_payload("5511911112222", name="Cliente A"))
        self.post_ok(
            self.inbound_payload("5511933334444", name="Cliente B", account=self.account_b),
            secret="secret-of-b",
        )
        message_a = self.messages_of("5511911112222")
        message_b = self.messages_of("5511933334444", account=self.account_b)
        self.assertEqual(message_a.company_id, self.company)
        self.assertEqual(message_b.company_id, self.company_b)
        self.assertEqual(message_b.partner_id.company_id, self.company_b)
        self.assertEqual(message_b.lead_id.company_id, self.company_b)

    def test_a_payload_for_b_signed_with_a_secret_is_refused(self):
        payload = self.inbound_payload("5511933334444", account=self.account_b)
        self.assertEqual(self.post_payload(payload, secret="test-app-secret").status_code, 403)

    def test_same_customer_on_both_accounts_gets_two_conversations(self):
        self.post_ok(self.inbound_payload("5511955556666"))
        self.post_ok(self.inbound_payload("5511955556666", account=self.account_b),
                     secret="secret-of-b")
        conversations = self.env["whatsapp.crm.conversation"].search(
            [("wa_id", "=", "5511955556666")])
        self.assertEqual(conversations.account_id, self.account | self.account_b)
        self.assertEqual(len(conversations.partner_id), 2)

    def test_users_of_another_company_cannot_read_conversations_or_messages(self):
        self.post_ok(self.inbound_payload("5511911112222"))
        conversation = self.conversation_of("5511911112222")
        message = self.messages_of("5511911112222")
        with self.assertRaises(AccessError):
            conversation.with_user(self.salesperson_b).read(["name"])
        with self.assertRaises(AccessError):
            message.with_user(self.salesperson_b).read(["body"])
        self.assertFalse(
            self.env["whatsapp.crm.conversation"].with_user(self.salesperson_b).search([])
        )
