from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestWhatsappCrmAiFaq(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env["whatsapp.crm.account"]
        cls.account = Account.create(
            {
                "name": "FAQ line",
                "waba_id": "100000000000081",
                "phone_number_id": "200000000000082",
                "display_phone_number": "15550008282",
                "api_base_url": "http://127.0.0.1:9",
            }
        )
        cls.other_account = Account.create(
            {
                "name": "Other line",
                "waba_id": "100000000000083",
                "phone_number_id": "200000000000084",
                "display_phone_number": "15550008484",
                "api_base_url": "http://127.0.0.1:9",
            }
        )
        Faq = cls.env["whatsapp.crm.ai.faq"]
        Faq.search([]).action_archive()  # only this test's entries take part
        cls.hours, cls.delivery, cls.payment = Faq.create(
            [
                {
                    "question": "¿Cuál es el horario de atención?",
                    "answer": "Atendemos de lunes a viernes, de 9 a 18 h.",
                    "keywords": "horario, abierto, hora, abren, atendimento",
                },
                {
                    "question": "Qual é o prazo de entrega?",
                    "answer": "Entregamos em até 5 dias úteis.",
                    "keywords": "entrega, envio, prazo, frete, demora",
                    "account_id": cls.account.id,
                },
                {
                    "question": "¿Cuáles son las formas de pago?",
                    "answer": "Aceptamos tarjeta, Pix y transferencia.",
                    "keywords": "pago, pagar, tarjeta, pix, pagamento, cartão",
                    "account_id": cls.other_account.id,
                },
            ]
        )
        cls.Faq = Faq

    def test_spanish_question(self):
        match = self.Faq._match_answer("Hola, ¿a qué hora abren mañana?", account=self.account)
        self.assertEqual(match["faq"], self.hours)
        self.assertEqual(match["answer"], self.hours.answer)
        self.assertGreaterEqual(match["confidence"], 0.7)

    def test_portuguese_question_with_accents(self):
        match = self.Faq._match_answer(
            "Olá! Qual o prazo de entrega para São Paulo?", account=self.account
        )
        self.assertEqual(match["faq"], self.delivery)
        self.assertGreaterEqual(match["confidence"], 0.7)
        # "horário" (pt, accented) finds the Spanish entry about "horario"
        match = self.Faq._match_answer("Qual é o horário de atendimento?", account=self.account)
        self.assertEqual(match["faq"], self.hours)
        # a plural and a keyword only: lower, but still the right entry
        match = self.Faq._match_answer("Quanto custam os fretes?", account=self.account)
        self.assertEqual(match["faq"], self.delivery)
        self.assertLess(match["confidence"], 0.7)

    def test_account_scope_and_threshold(self):
        # the payment entry belongs to another account
        self.assertIsNone(
            self.Faq._match_answer("Posso pagar com cartão ou Pix?", account=self.account)
        )
        match = self.Faq._match_answer("Posso pagar com cartão ou Pix?",
                                       account=self.other_account)
        self.assertEqual(match["faq"], self.payment)
        self.assertIsNone(self.Faq._match_answer("Bom dia!", account=self.account))
        self.assertIsNone(
            self.Faq._match_answer("Quanto custam os fretes?", account=self.account,
                                   min_confidence=0.9)
        )
        self.hours.action_archive()
        self.assertIsNone(self.Faq._match_answer("¿A qué hora abren?", account=self.account))
