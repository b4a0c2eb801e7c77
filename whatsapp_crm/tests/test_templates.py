import time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import envelope
from .common_simulator import WhatsappCrmSimulatorCase

WAIT_SECONDS = 15


def seeded(name, status="APPROVED", **extra):
    return {
        "name": name,
        "language": "en_US",
        "category": "UTILITY",
        "status": status,
        "components": [
            {"type": "BODY", "text": "Hello {{1}}, your order {{2}} has shipped today.",
             "example": {"body_text": [["Ana", "SO042"]]}},
        ],
        **extra,
    }


@tagged("post_install", "-at_install")
class TestTemplates(WhatsappCrmSimulatorCase):
    """Templates synced from, submitted to and updated by the Cloud API simulator."""

    simulator_config = {"status_latency": 60, "template_approval_delay": 1.0}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tpl_account = cls.sim_line
        cls.Template = cls.env["whatsapp.crm.template"]

    # ------------------------------------------------------------------ helpers

    def _draft(self, **values):
        return self.Template.create({
            "account_id": self.tpl_account.id,
            "name": "order_shipped",
            "language": "en-US",
            "category": "utility",
            "body": "Hello {{1}}, your order {{2}} has shipped today.",
            "user_id": self.salesperson_1.id,
            **values,
        })

    def _set_examples(self, template, **examples):
        for variable in template.variable_ids:
            variable.example = examples.get(variable.key, variable.example)

    def _template_posts(self):
        return [r for r in self.simulator.requests("message_templates")
                + self.simulator.rejected("message_templates") if r["method"] == "POST"]

    def _wait_for_webhooks(self, action, count=1):
        """Run ``action`` (which makes the simulator post), wait for ``count`` deliveries."""
        self.env.flush_all()
        before = len(self.simulator.webhooks())
        with self.allow_requests(all_requests=True):
            action()
            # Meta's answer comes later (the approval delay): what the action wrote must be
            # in the database by then, as after a commit.
            self.env.flush_all()
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline:
                done = [w for w in self.simulator.webhooks()[before:]
                        if w["status_code"] is not None]
                if len(done) >= count:
                    break
                time.sleep(0.05)
        self.assertGreaterEqual(len(done), count, self.simulator.webhooks())
        self.assertTrue(all(w["status_code"] == 200 for w in done), done)
        self.env.invalidate_all()

    def _post_field(self, field, value):
        payload = envelope([(field, value)], self.sim_account.waba_id)
        self._wait_for_webhooks(lambda: self.simulator.send_webhook(
            payload, account=self.sim_account.phone_number_id))

    def _todo_of(self, template):
        return template.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo"))

    # ------------------------------------------------------------------ sync

    def test_sync_reads_every_page_and_keeps_variable_mappings(self):
        self.env["ir.config_parameter"].set_param("whatsapp_crm.template_page_size", "5")
        for index in range(12):
            self.simulator.seed_template(seeded(f"promo_{index:02d}"),
                                         waba_id=self.sim_account.waba_id)
        self.tpl_account.action_sync_from_meta()
        pages = [r for r in self.simulator.requests("message_templates") if r["method"] == "GET"]
        self.assertEqual(len(pages), 3)
        synced = self.Template.search([("account_id", "=", self.tpl_account.id)])
        self.assertEqual(len(synced), 12)
        first = synced.filtered(lambda t: t.name == "promo_00")
        self.assertEqual((first.status, first.language, first.category),
                         ("approved", "en_US", "utility"))
        self.assertEqual(first.variable_ids.mapped("key"), ["1", "2"])
        self.assertEqual(first.variable_ids.mapped("example"), ["Ana", "SO042"])
        first.variable_ids[0].field_path = "partner_id.name|'Customer'"
        self.assertIn("Hello Ana, your order SO042", first.preview)

        self.tpl_account.action_sync_from_meta()
        self.assertEqual(self.Template.search_count([("account_id", "=", self.tpl_account.id)]),
                         12)
        self.assertEqual(first.variable_ids[0].field_path, "partner_id.name|'Customer'")
        self.assertTrue(first.last_synced_at)

    # ------------------------------------------------------------------ submit

    def test_submit_refuses_an_invalid_template_before_calling_meta(self):
        template = self._draft(name="Order Shipped", body="{{1}} shipped", footer="x" * 61)
        with self.assertRaises(UserError) as caught:
            template.action_submit()
        message = str(caught.exception)
        self.assertIn("Name: use 1 to 512 lowercase letters", message)
        self.assertIn("Body: a parameter cannot start or end the text.", message)
        self.assertIn("Footer: the text has 61 characters, at most 60 allowed.", message)
        self.assertIn("every parameter needs an example; missing for 1", message)
        self.assertEqual(self._template_posts(), [])
        self.assertEqual(template.status, "draft")

    def test_submit_then_meta_approves_by_signed_webhook(self):
        template = self._draft(footer="Acme Shop", button_ids=[
            (0, 0, {"type": "quick_reply", "text": "Thanks"}),
            (0, 0, {"type": "url", "text": "Track", "url": "https://shop.example/t/{{1}}",
                    "example": "https://shop.example/t/SO042"}),
        ])
        self.assertEqual(template.language, "en_US")
        self.assertEqual(template.variable_ids.mapped("key"), ["1", "2", "button:1"])
        self._set_examples(template, **{"1": "Ana", "2": "SO042"})
        self._wait_for_webhooks(template.action_submit)
        self.assertEqual(len(self._template_posts()), 1)
        self.assertTrue(template.meta_template_id)
        self.assertEqual(template.status, "approved")
        self.assertEqual(template.components[-1]["buttons"][1]["url"],
                         "https://shop.example/t/{{1}}")
        self.assertTrue(any("APPROVED" in (m.body or "") for m in template.message_ids))
        self.assertFalse(self._todo_of(template))
        self.assertTrue(template._check_sendable())

    def test_rejection_is_recorded_and_the_owner_gets_an_activity(self):
        template = self._draft(name="sim_reject_promo")
        self._set_examples(template, **{"1": "Ana", "2": "SO042"})
        self._wait_for_webhooks(template.action_submit)
        self.assertEqual(template.status, "rejected")
        self.assertEqual(template.rejection_reason, "INVALID_FORMAT")
        todo = self._todo_of(template)
        self.assertEqual(todo.user_id, self.salesperson_1)
        self.assertIn("rejected", todo.summary)
        with self.assertRaisesRegex(UserError, "Meta rejected the template"):
            template._check_sendable()

    def test_pause_quality_and_category_updates(self):
        self.simulator.seed_template(seeded("weekly_offer"), waba_id=self.sim_account.waba_id)
        self.tpl_account.action_sync_from_meta()
        template = self.Template.search([("name", "=", "weekly_offer")])
        template.user_id = self.salesperson_2

        self._wait_for_webhooks(
            lambda: self.simulator.set_template_status(template.meta_template_id, "PAUSED"))
        self.assertEqual(template.status, "paused")
        self.assertIn("paused", self._todo_of(template).summary)
        with self.assertRaisesRegex(UserError, "paused"):
            template._check_sendable()

        template.status = "approved"
        self._post_field("message_template_quality_update", {
            "message_template_id": int(template.meta_template_id),
            "message_template_name": "weekly_offer", "message_template_language": "en-US",
            "previous_quality_score": "GREEN", "new_quality_score": "RED"})
        self.assertEqual(template.quality, "red")
        self.assertEqual(len(self._todo_of(template)), 2)
        with self.assertRaisesRegex(UserError, "low quality rating"):
            template._check_sendable()

        self._post_field("template_category_update", {
            "message_template_id": int(template.meta_template_id),
            "message_template_name": "weekly_offer", "message_template_language": "en_US",
            "previous_category": "UTILITY", "new_category": "MARKETING"})
        self.assertEqual(template.category, "marketing")
        self.assertEqual(len(self._todo_of(template)), 3)
        self.assertEqual(self._todo_of(template).user_id, self.salesperson_2)

    def test_update_for_an_unknown_template_syncs_the_account(self):
        remote = self.simulator.seed_template(seeded("made_on_meta", status="PENDING"),
                                              waba_id=self.sim_account.waba_id)
        self._wait_for_webhooks(
            lambda: self.simulator.set_template_status(remote["id"], "APPROVED"))
        template = self.Template.search([("account_id", "=", self.tpl_account.id),
                                         ("name", "=", "made_on_meta")])
        self.assertEqual(template.status, "approved")
        self.assertEqual(template.meta_template_id, remote["id"])

    # ------------------------------------------------------------------ values

    def test_render_values_follow_field_paths_with_fallbacks(self):
        template = self._draft(status="approved")
        template.components = [{"type": "BODY", "text":
                                "Hello {{1}}, your order {{2}} has shipped today."}]
        first, second = template.variable_ids.sorted("sequence")
        first.field_path = "partner_id.name|contact_name|'Customer'"
        second.field_path = "unlink|partner_id.nope|name"
        Lead = self.env["crm.lead"]
        with_partner = Lead.create({"name": "SO042", "partner_id": self.env["res.partner"].create(
            {"name": "Ana Lima"}).id})
        with_contact = Lead.create({"name": "SO043", "contact_name": "Bruno"})
        anonymous = Lead.create({"name": "SO044"})
        self.assertEqual(template._render_values(with_partner), {"1": "Ana Lima", "2": "SO042"})
        self.assertEqual(template._render_values(with_contact)["1"], "Bruno")
        self.assertEqual(template._render_values(anonymous)["1"], "Customer")
        self.assertEqual(template._preview(anonymous),
                         "Hello Customer, your order SO044 has shipped today.")
        self.assertEqual(template._send_components(with_partner), [{"type": "body", "parameters": [
            {"type": "text", "text": "Ana Lima"}, {"type": "text", "text": "SO042"}]}])
        second.field_path = "partner_id.email"
        with self.assertRaisesRegex(UserError, "can't be filled"):
            template._send_components(with_partner)
        with self.assertRaisesRegex(UserError, "meant for"):
            template._render_values(with_partner.partner_id)

    def test_check_sendable_explains_why_not(self):
        template = self._draft()
        with self.assertRaisesRegex(UserError, "has not been submitted"):
            template._check_sendable()
        template.status = "pending"
        with self.assertRaisesRegex(UserError, "waiting for Meta's approval"):
            template._check_sendable()
        template.status = "disabled"
        with self.assertRaisesRegex(UserError, "disabled"):
            template._check_sendable()
        template.status = "approved"
        nobody = self.env["res.partner"].create({"name": "No Phone"})
        with self.assertRaisesRegex(UserError, "no phone number"):
            template._check_sendable(partner=nobody)
        nobody.phone = "+15550009999"
        self.assertTrue(template._check_sendable(partner=nobody))
