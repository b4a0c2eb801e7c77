from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import WhatsappCrmCase

CONVERSATION = "whatsapp.crm.conversation"
MESSAGE = "whatsapp.crm.message"


@tagged("post_install", "-at_install")
class TestAccessRights(WhatsappCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for user in (cls.salesperson_1, cls.salesperson_2):
            user.password = user.login
        cls.other_team = cls.env["crm.team"].create({"name": "Other WhatsApp Team"})
        cls.outsider = cls._new_salesperson("wa_sales_3", "Salesperson Three")
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.other_team.id, "user_id": cls.outsider.id})
        cls.all_docs = cls._new_salesperson("wa_sales_all", "All Documents")
        cls.all_docs.group_ids = [(4, cls.env.ref("sales_team.group_sale_salesman_all_leads").id)]
        cls.lead_1 = cls.env["crm.lead"].create(
            {"name": "Lead of One", "user_id": cls.salesperson_1.id})

        def conversation(wa_id, **values):
            record = cls.env[CONVERSATION].create(
                {"account_id": cls.account.id, "wa_id": wa_id, **values})
            cls.env[MESSAGE].create({
                "conversation_id": record.id, "account_id": cls.account.id,
                "direction": "in", "state": "received", "body": f"Hello from {wa_id}",
            })
            return record

        cls.assigned_1 = conversation("5511900000001", user_id=cls.salesperson_1.id)
        cls.lead_of_1 = conversation("5511900000002", user_id=cls.salesperson_2.id,
                                     lead_id=cls.lead_1.id)
        cls.unassigned_team = conversation("5511900000003", team_id=cls.team.id)
        cls.unassigned_no_team = conversation("5511900000004")
        cls.unassigned_no_team.team_id = False
        cls.unassigned_other_team = conversation("5511900000005", team_id=cls.other_team.id)
        cls.assigned_2 = conversation("5511900000006", user_id=cls.salesperson_2.id)
        cls.all_conversations = (
            cls.assigned_1 | cls.lead_of_1 | cls.unassigned_team | cls.unassigned_no_team
            | cls.unassigned_other_team | cls.assigned_2
        )

    def _visible(self, user):
        return self.env[CONVERSATION].with_user(user).search(
            [("id", "in", self.all_conversations.ids)])

    def test_salesperson_sees_own_lead_and_team_unassigned_conversations(self):
        self.assertEqual(
            self._visible(self.salesperson_1),
            self.assigned_1 | self.lead_of_1 | self.unassigned_team | self.unassigned_no_team,
        )
        messages = self.env[MESSAGE].with_user(self.salesperson_1).search(
            [("conversation_id", "in", self.all_conversations.ids)])
        self.assertEqual(messages.conversation_id, self._visible(self.salesperson_1))
        self.assertEqual(
            self._visible(self.outsider), self.unassigned_no_team | self.unassigned_other_team)

    def test_salesperson_cannot_read_another_salespersons_conversation(self):
        with self.assertRaises(AccessError):
            self.assigned_2.with_user(self.salesperson_1).read(["name"])
        with self.assertRaises(AccessError):
            self.assigned_2.whatsapp_message_ids.with_user(self.salesperson_1).read(["body"])
        with self.assertRaises(AccessError):
            self.unassigned_other_team.with_user(self.salesperson_1).read(["name"])

    def test_all_documents_salesperson_and_manager_see_everything(self):
        self.assertEqual(self._visible(self.all_docs), self.all_conversations)
        manager = self.env.ref("base.user_admin")
        self.assertEqual(self._visible(manager), self.all_conversations)

    def test_only_managers_configure_accounts_templates_and_canned_replies(self):
        values = {"name": "Mine", "waba_id": "1", "phone_number_id": "2",
                  "access_token": "t", "app_secret": "s"}
        with self.assertRaises(AccessError):
            self.env["whatsapp.crm.account"].with_user(self.salesperson_1).create(values)
        with self.assertRaises(AccessError):
            self.account.with_user(self.salesperson_1).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["whatsapp.crm.template"].with_user(self.salesperson_1).create(
                {"name": "t", "account_id": self.account.id, "language": "en"})
        with self.assertRaises(AccessError):
            self.env["whatsapp.crm.canned.reply"].with_user(self.salesperson_1).create(
                {"name": "x", "body": "y"})
        manager = self.env.ref("base.user_admin")
        self.account.with_user(manager).write({"name": "Renamed by the manager"})
        self.env["whatsapp.crm.canned.reply"].with_user(manager).create({"name": "x", "body": "y"})

    def test_canned_replies_are_shared_per_team(self):
        Reply = self.env["whatsapp.crm.canned.reply"]
        replies = Reply.create([
            {"name": "Global", "body": "g"},
            {"name": "Team", "body": "t", "team_id": self.team.id},
            {"name": "Other", "body": "o", "team_id": self.other_team.id},
        ])
        seen = Reply.with_user(self.salesperson_1).search([("id", "in", replies.ids)])
        self.assertEqual(seen.mapped("name"), ["Global", "Team"])
        seen = Reply.with_user(self.outsider).search([("id", "in", replies.ids)])
        self.assertEqual(seen.mapped("name"), ["Global", "Other"])

    def test_companies_are_isolated(self):
        company_b = self.env["res.company"].create({"name": "WhatsApp B"})
        account_b = self._new_account(
            name="B line", waba_id="300000000000003", phone_number_id="400000000000004",
            app_secret="b-secret", company=company_b)
        conversation_b = self.env[CONVERSATION].create(
            {"account_id": account_b.id, "wa_id": "5511900000009"})
        reply_b = self.env["whatsapp.crm.canned.reply"].create(
            {"name": "B", "body": "b", "company_id": company_b.id})
        for user in (self.all_docs, self.env.ref("base.user_admin")):
            with self.assertRaises(AccessError):
                conversation_b.with_user(user).read(["name"])
        with self.assertRaises(AccessError):
            reply_b.with_user(self.salesperson_1).read(["name"])

    def _call_kw(self, model, method, args):
        return self.make_jsonrpc_request(f"/web/dataset/call_kw/{model}/{method}", {
            "model": model, "method": method, "args": args, "kwargs": {},
        })

    @mute_logger("odoo.http")
    def test_rpc_refuses_another_salespersons_conversation_and_messages(self):
        self.authenticate(self.salesperson_1.login, self.salesperson_1.login)
        rows = self._call_kw(CONVERSATION, "read", [self.assigned_1.ids, ["name"]])
        self.assertEqual(rows[0]["id"], self.assigned_1.id)
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call_kw(CONVERSATION, "read", [self.assigned_2.ids, ["name"]])
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call_kw(MESSAGE, "read", [self.assigned_2.whatsapp_message_ids.ids, ["body"]])
        found = self._call_kw(CONVERSATION, "search_read",
                              [[("id", "in", self.all_conversations.ids)], ["id"]])
        self.assertNotIn(self.assigned_2.id, [row["id"] for row in found])
        messages = self._call_kw(MESSAGE, "search_read", [[("body", "ilike", "5511900000006")],
                                                          ["body"]])
        self.assertEqual(messages, [])
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call_kw(CONVERSATION, "web_read", [self.assigned_2.ids, {"name": {}}])
