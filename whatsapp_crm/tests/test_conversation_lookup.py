from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common_simulator import WhatsappCrmSimulatorCase

# Brazil's mobile numbers gained a ninth digit; WhatsApp still reports old accounts
# without it.
OLD_WA_ID = "551187654321"


def _free_text_composer(env, account, record, body):
    """The composer opened on `record`, with a free-text message on `account`."""
    context = {"active_model": record._name, "active_ids": record.ids}
    composer = Form(env["whatsapp.crm.composer"].with_context(**context))
    composer.account_id = account
    composer.use_template = False
    composer.body = body
    return composer.save()


@tagged("post_install", "-at_install")
class TestConversationLookup(WhatsappCrmSimulatorCase):
    """The composer finds the customer's conversation the way inbound messages do."""

    def _conversations(self):
        return self.env["whatsapp.crm.conversation"].search(
            [("account_id", "=", self.sim_line.id)])

    def test_contact_with_the_new_number_reuses_the_conversation_of_the_old_one(self):
        inbound = self.customer_writes(OLD_WA_ID, name="Marta", text="Oi")
        conversation = inbound.conversation_id
        # Saved by hand later, with the ninth digit and national formatting.
        contact = self.env["res.partner"].create({
            "name": "Marta Silva", "phone": "+55 11 98765-4321",
        })
        self.assertNotEqual(contact, conversation.partner_id)
        before = self._conversations()
        _free_text_composer(self.env, self.sim_line, contact, "Hello from Odoo").action_send()
        self.assertEqual(self._conversations(), before, "no second conversation")
        out = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(out.body, "Hello from Odoo")
        self.assertEqual(out.conversation_id.wa_id, OLD_WA_ID)


@tagged("post_install", "-at_install")
class TestColleaguesCustomer(WhatsappCrmSimulatorCase):
    """Salesperson One writes to a customer whose conversation Salesperson Two handles."""

    def setUp(self):
        super().setUp()
        self.secret_text = "My card number is 4111 and I live at Rua Secreta 42"
        inbound = self.customer_writes("5511933330000", name="Bia", text=self.secret_text)
        self.conversation = inbound.conversation_id
        self.customer = self.conversation.partner_id
        self.conversation.write({"user_id": self.salesperson_2.id})
        self.conversation.lead_id.user_id = self.salesperson_2
        self.own_opportunity = self.env["crm.lead"].create({
            "name": "One's deal with Bia", "type": "opportunity",
            "partner_id": self.customer.id, "user_id": self.salesperson_1.id,
        })

    def _assert_refused(self, record):
        conversations = self.env["whatsapp.crm.conversation"].search_count([])
        messages = self.env["whatsapp.crm.message"].search_count([])
        composer = self._compose(record)
        self.assertEqual(composer.colleague_user_id, self.salesperson_2)
        self.assertFalse(composer.conversation_id, "the colleague's window is not shown")
        with self.assertRaisesRegex(UserError, "Salesperson Two handles"):
            composer.action_send()
        self.assertEqual(self.env["whatsapp.crm.conversation"].search_count([]), conversations)
        self.assertEqual(self.env["whatsapp.crm.message"].search_count([]), messages)
        return composer

    def _compose(self, record):
        return _free_text_composer(self.env(user=self.salesperson_1), self.sim_line, record,
                                   "Hi Bia")

    def test_from_the_contact_form_is_refused_in_plain_words(self):
        self._assert_refused(self.customer.with_user(self.salesperson_1))

    def test_from_own_opportunity_is_refused_and_a_transfer_can_be_asked(self):
        composer = self._assert_refused(self.own_opportunity.with_user(self.salesperson_1))
        self.assertIs(composer.action_request_transfer(), True)
        activity = self.conversation.activity_ids
        self.assertEqual(activity.user_id, self.salesperson_2)
        self.assertIn("Salesperson One", activity.summary)

    def test_the_customers_words_are_not_readable_through_the_contact(self):
        Post = self.env["mail.message"].with_user(self.salesperson_1)
        found = Post.search([("body", "ilike", "Rua Secreta")])
        self.assertFalse(found)
        self.assertFalse(Post.search([("model", "=", "res.partner"),
                                      ("res_id", "=", self.customer.id),
                                      ("whatsapp_crm_message_id", "!=", False)]))
        # The colleague handling it still reads it on the conversation and the lead.
        own = self.env["mail.message"].with_user(self.salesperson_2).search(
            [("body", "ilike", "Rua Secreta")])
        self.assertEqual(set(own.mapped("model")), {"crm.lead", "whatsapp.crm.conversation"})

        # The same over JSON-RPC, as the web client or an integration would ask.
        self.salesperson_1.password = "wa_sales_1"
        self.authenticate("wa_sales_1", "wa_sales_1")

        def call(method, *args):
            return self.make_jsonrpc_request(f"/web/dataset/call_kw/mail.message/{method}", {
                "model": "mail.message", "method": method, "args": list(args), "kwargs": {},
            })

        self.assertEqual(call("search_read", [("body", "ilike", "Rua Secreta")], ["body"]), [])
        customer_posts = call("search_read", [("model", "=", "res.partner"),
                                              ("res_id", "=", self.customer.id)], ["body"])
        self.assertFalse([post for post in customer_posts if "Secreta" in post["body"]])
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            call("read", own.ids, ["body"])
