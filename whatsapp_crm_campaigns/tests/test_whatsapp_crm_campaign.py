from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestWhatsappCrmCampaign(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["whatsapp.crm.account"].create(
            {
                "name": "Campaign line",
                "waba_id": "100000000000071",
                "phone_number_id": "200000000000072",
                "display_phone_number": "15550007272",
                "api_base_url": "http://127.0.0.1:9",
            }
        )
        partners = cls.env["res.partner"].create(
            [
                {"name": "Campaign Test Ana", "phone": "+55 11 98765-4321"},
                {"name": "Campaign Test Bruno", "phone": "+34 612 34 56 78"},
                {"name": "Campaign Test Carla", "phone": "+351 912 345 678"},
                {"name": "Campaign Test Diego"},  # no phone: unreachable
            ]
        )
        cls.carla = partners[2]
        cls.campaign = cls.env["whatsapp.crm.campaign"].create(
            {
                "name": "Spring promotion",
                "account_id": cls.account.id,
                "template_name": "spring_promo",
                "segment_domain": "[('name', 'ilike', 'Campaign Test')]",
            }
        )

    def test_recipient_count(self):
        self.assertEqual(self.campaign.company_id, self.account.company_id)
        self.assertEqual(self.campaign.recipient_count, 3)
        self.env["phone.blacklist"].add(self.carla.phone_sanitized)
        self.campaign.invalidate_recordset(["recipient_count"])
        self.assertEqual(self.campaign.recipient_count, 2)
        self.campaign.segment_domain = "[('name', '=', 'Campaign Test Diego')]"
        self.assertEqual(self.campaign.recipient_count, 0)
        action = self.campaign.action_view_recipients()
        self.assertEqual(action["res_model"], "res.partner")

    def test_invalid_segment(self):
        with self.assertRaises(ValidationError):
            self.campaign.segment_domain = "[('no_such_field', '=', 1)]"

    def test_state_machine(self):
        campaign = self.campaign
        self.assertEqual(campaign.state, "draft")
        with self.assertRaises(UserError):  # scheduling needs a date
            campaign.action_schedule()
        campaign.schedule_date = "2030-01-01 09:00:00"
        campaign.action_schedule()
        self.assertEqual(campaign.state, "scheduled")
        campaign.action_draft()
        self.assertEqual(campaign.state, "draft")
        campaign.action_start()
        self.assertEqual(campaign.state, "running")
        with self.assertRaises(UserError):
            campaign.action_draft()
        campaign.action_pause()
        self.assertEqual(campaign.state, "paused")
        with self.assertRaises(UserError):
            campaign.action_pause()
        campaign.action_resume()
        self.assertEqual(campaign.state, "running")
        campaign.action_done()
        self.assertEqual(campaign.state, "done")
        for action in ("action_start", "action_resume", "action_pause", "action_draft",
                       "action_schedule"):
            with self.subTest(action=action), self.assertRaises(UserError):
                getattr(campaign, action)()
        self.assertEqual(campaign.state, "done")

    def test_start_needs_template(self):
        campaign = self.campaign.copy({"template_name": False})
        self.assertEqual(campaign.state, "draft")
        with self.assertRaises(UserError):
            campaign.action_start()
