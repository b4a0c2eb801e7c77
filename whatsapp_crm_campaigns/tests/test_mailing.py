from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from ..lib import rules


@tagged("post_install", "-at_install")
class TestWhatsappMailing(TransactionCase):
    """WhatsApp as a mailing type of Email Marketing: preparation of the traces."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["whatsapp.crm.account"].create({
            "name": "Mailing line", "waba_id": "100000000000081",
            "phone_number_id": "200000000000082", "display_phone_number": "15550008282",
            "api_base_url": "http://127.0.0.1:9",
        })
        components = [{"type": "BODY", "text": "Hola {{1}}", "example": {
            "body_text": [["Ana"]]}}]
        cls.marketing, cls.utility = (cls.env["whatsapp.crm.template"].create({
            "name": name, "language": "es", "category": category, "status": "approved",
            "account_id": cls.account.id, "components": components,
        }) for name, category in (("promo_wa", "marketing"), ("aviso_wa", "utility")))
        Partner = cls.env["res.partner"]

        def contact(name, phone, consent):
            partner = Partner.create({"name": f"WA Mailing {name}", "phone": phone})
            if consent != "unknown":
                partner._whatsapp_set_consent(consent, "manual")
            return partner

        cls.ana = contact("Ana", "+55 11 98765-4321", "opted_in")
        cls.bruno = contact("Bruno", "+34 612 34 56 78", "unknown")
        cls.carla = contact("Carla", "+351 912 345 678", "opted_out")
        cls.diego = contact("Diego", False, "opted_in")
        cls.emily = contact("Emily", "+1 202 555 0123", "opted_in")  # US
        cls.felix = contact("Felix", "+1 416 555 0123", "opted_in")  # Canada
        cls.ana_twin = contact("Ana twin", "+55 11 98765-4321", "opted_in")
        cls.gabi = contact("Gabi", "+55 21 99876-5432", "opted_in")
        cls.env["phone.blacklist"].add("+5521998765432")

    def _mailing(self, template, **values):
        return self.env["mailing.mailing"].create({
            "subject": "Ofertas de verano", "mailing_type": "whatsapp_crm",
            "mailing_model_id": self.env["ir.model"]._get("res.partner").id,
            "mailing_domain": "[('name', 'ilike', 'WA Mailing')]",
            "whatsapp_crm_account_id": self.account.id,
            "whatsapp_crm_template_id": template.id, **values,
        })

    def _traces(self, mailing):
        traces = self.env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
        return {trace.res_id: (trace.trace_status, trace.failure_type) for trace in traces}

    def test_marketing_mailing_traces_every_recipient_with_its_exclusion(self):
        mailing = self._mailing(self.marketing)
        self.assertIs(mailing.action_launch(), True)  # XML-RPC can carry it
        self.assertEqual(mailing.state, "in_queue")
        mailing._action_send_mail()
        self.assertEqual(self._traces(mailing), {
            self.ana.id: ("outgoing", False),
            self.bruno.id: ("cancel", rules.NO_CONSENT),
            self.carla.id: ("cancel", rules.OPTED_OUT),
            self.diego.id: ("cancel", rules.NO_NUMBER),
            self.emily.id: ("cancel", rules.US_MARKETING),
            self.felix.id: ("outgoing", False),
            self.ana_twin.id: ("cancel", rules.DUPLICATE),
            self.gabi.id: ("cancel", rules.BLACKLISTED),
        })
        traces = self.env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
        self.assertEqual(set(traces.mapped("trace_type")), {"whatsapp_crm"})
        self.assertEqual(traces.filtered(lambda t: t.res_id == self.ana.id).whatsapp_crm_number,
                         "+5511987654321")
        self.assertFalse(self.env["mail.mail"].search([("mailing_id", "=", mailing.id)]),
                         "no e-mail is sent for a WhatsApp mailing")
        # Odoo's queue keeps it sending while a trace is outgoing, and never twice.
        self.assertEqual(sorted(mailing._get_remaining_recipients()),
                         sorted((self.ana | self.felix).ids))
        mailing._action_send_mail()
        self.assertEqual(len(self._traces(mailing)), 8)

    def test_transactional_utility_reaches_unknown_consent_never_opted_out(self):
        mailing = self._mailing(self.utility, whatsapp_crm_transactional=True,
                                whatsapp_crm_transactional_reason="Appointment reminders")
        mailing.action_put_in_queue()
        mailing._action_send_mail()
        traces = self._traces(mailing)
        self.assertEqual(traces[self.bruno.id], ("outgoing", False))
        self.assertEqual(traces[self.carla.id], ("cancel", rules.OPTED_OUT))
        self.assertEqual(traces[self.emily.id], ("outgoing", False), "utility may reach US")

    def test_launch_needs_an_approved_template_and_a_utility_one_for_transactional(self):
        with self.assertRaises(UserError):
            self._mailing(self.marketing, whatsapp_crm_transactional=True).action_launch()
        self.marketing.status = "paused"
        with self.assertRaises(UserError):
            self._mailing(self.marketing).action_launch()

    def test_pause_and_resume(self):
        mailing = self._mailing(self.marketing)
        mailing.action_launch()
        self.assertIs(mailing.action_pause(), True)
        self.assertEqual(mailing.state, "paused")
        self.assertIs(mailing.action_resume(), True)
        self.assertEqual(mailing.state, "in_queue")
        mailing._action_send_mail()
        self.assertIs(mailing.action_cancel(), True)
        self.assertEqual(mailing.state, "draft")
        self.assertNotIn("outgoing", {status for status, _ in self._traces(mailing).values()})

    def test_a_marketing_user_reads_the_mailing_account_and_template(self):
        """Email Marketing users choose the line and the template without WhatsApp rights
        (the secrets stay readable by WhatsApp managers only)."""
        marketer = self.env["res.users"].create({
            "name": "Marta Marketing", "login": "wa_mailing_marketer",
            "group_ids": [(6, 0, [self.env.ref("mass_mailing.group_mass_mailing_user").id])],
        })
        mailing = self._mailing(self.marketing).with_user(marketer)
        self.assertEqual(mailing.whatsapp_crm_account_id.name, "Mailing line")
        self.assertEqual(mailing.whatsapp_crm_template_id.name, "promo_wa")
        with self.assertRaises(AccessError):
            mailing.whatsapp_crm_account_id.read(["access_token"])

    def test_frequency_cap_counts_marketing_sent_in_the_window_across_mailings(self):
        self.assertEqual((self.env.company.whatsapp_crm_marketing_cap,
                          self.env.company.whatsapp_crm_marketing_cap_days), (2, 7))
        earlier = self._mailing(self.marketing)
        now = fields.Datetime.now()

        def sent(partner, number, days_ago, status="sent"):
            return {"trace_type": "whatsapp_crm", "mass_mailing_id": earlier.id,
                    "model": "res.partner", "res_id": partner.id, "trace_status": status,
                    "whatsapp_crm_number": number,
                    "sent_datetime": now - timedelta(days=days_ago)}

        self.env["mailing.trace"].create([
            sent(self.ana, "+5511987654321", 1), sent(self.ana, "+5511987654321", 6),
            sent(self.felix, "+14165550123", 2), sent(self.felix, "+14165550123", 9),
            sent(self.felix, "+14165550123", 1, status="error"),  # not received
        ])
        mailing = self._mailing(self.marketing)
        mailing._action_send_mail()
        traces = self._traces(mailing)
        self.assertEqual(traces[self.ana.id], ("cancel", rules.FREQUENCY_CAP))
        self.assertEqual(traces[self.felix.id], ("outgoing", False))
        # A utility mailing is no marketing: the cap does not apply.
        reminder = self._mailing(self.utility)
        reminder._action_send_mail()
        self.assertEqual(self._traces(reminder)[self.ana.id], ("outgoing", False))

    def test_old_consent_expires_only_when_the_company_asks(self):
        self.ana.whatsapp_opt_in_date = fields.Datetime.now() - timedelta(days=400)
        self.felix.whatsapp_opt_in_date = fields.Datetime.now() - timedelta(days=10)
        Partner = self.env["res.partner"]
        Partner._cron_whatsapp_crm_expire_consent()
        self.assertEqual(self.ana.whatsapp_opt_in, "opted_in", "off by default")
        self.env.company.whatsapp_crm_consent_max_age_days = 365
        Partner._cron_whatsapp_crm_expire_consent()
        self.assertEqual((self.ana.whatsapp_opt_in, self.felix.whatsapp_opt_in),
                         ("unknown", "opted_in"))
        log = self.ana.whatsapp_consent_log_ids.sorted("id")[-1]
        self.assertEqual((log.state, log.source), ("unknown", "expiry"))
        self.assertIn("365", log.proof)
        # An expired contact is no longer reached by a marketing mailing.
        mailing = self._mailing(self.marketing)
        mailing._action_send_mail()
        self.assertEqual(self._traces(mailing)[self.ana.id], ("cancel", rules.NO_CONSENT))

    def test_preview_counts_who_gets_it_and_why_others_do_not_without_writing_traces(self):
        mailing = self._mailing(self.marketing)
        self.assertIs(mailing.action_whatsapp_crm_preview(), True)
        self.assertEqual(mailing.whatsapp_crm_audience, {
            "send": 2, rules.NO_CONSENT: 1, rules.OPTED_OUT: 1, rules.NO_NUMBER: 1,
            rules.US_MARKETING: 1, rules.DUPLICATE: 1, rules.BLACKLISTED: 1})
        self.assertFalse(self._traces(mailing), "a preview prepares nothing")
        self.assertIn("2 recipients will get it", mailing.whatsapp_crm_audience_html)
        self.assertIn("Opted out of WhatsApp marketing", mailing.whatsapp_crm_audience_html)
        mailing._action_send_mail()
        statuses = [status for status, _reason in self._traces(mailing).values()]
        self.assertEqual(statuses.count("outgoing"), 2)
