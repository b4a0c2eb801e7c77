import base64

from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common_simulator import WhatsappCrmSimulatorCase

WA_ID = "5511912340000"
OUTBOUND_LOGGER = "odoo.addons.whatsapp_crm.models.whatsapp_crm_message"


@tagged("post_install", "-at_install")
class TestOutbound(WhatsappCrmSimulatorCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].set_param("whatsapp_crm.send_reconcile_seconds", "0")
        self.first_inbound = self.customer_writes(WA_ID, text="Hola, ¿precio del plan anual?")
        self.lead = self.first_inbound.lead_id
        self.conversation = self.first_inbound.conversation_id

    def _compose(self, record, **values):
        context = {"active_model": record._name, "active_ids": record.ids}
        composer = Form(self.env["whatsapp.crm.composer"].with_context(**context))
        composer.account_id = self.sim_line
        for name, value in values.items():
            setattr(composer, name, value)
        return composer.save()

    def _send_from_lead(self, **values):
        self._compose(self.lead, **values).action_send()
        return self.env["whatsapp.crm.message"].search(
            [("conversation_id", "=", self.conversation.id), ("direction", "=", "out")],
            order="id desc", limit=1,
        )

    def _run_queue(self):
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()

    def test_reply_from_the_lead_reaches_meta_once_with_our_callback_data(self):
        message = self._send_from_lead(
            body="¡Claro! *20% off* hoy 🎉", reply_to_id=self.first_inbound
        )
        self.assertEqual(message.state, "queued")
        self._run_queue()
        self.assertEqual(message.state, "sent")
        self.assertTrue(message.wamid.startswith("wamid."))
        sent = self.sent_requests()
        self.assertEqual(len(sent), 1)
        body = sent[0]["json"]
        self.assertEqual(body["to"], f"+{WA_ID}")
        self.assertEqual(body["text"]["body"], "¡Claro! *20% off* hoy 🎉")
        self.assertEqual(body["context"]["message_id"], self.first_inbound.wamid)
        self.assertEqual(body["biz_opaque_callback_data"], f"whatsapp.crm.message:{message.id}")
        self._run_queue()
        self.assertEqual(len(self.sent_requests()), 1)
        posted = message.mail_message_ids
        self.assertEqual(set(posted.mapped("model")),
                         {"crm.lead", "whatsapp.crm.conversation"})
        self.assertEqual(posted[0].author_id, self.env.user.partner_id)
        # The delivery state is mirrored in a notification of our own type, not in the body.
        notifications = posted.notification_ids
        self.assertEqual(set(notifications.mapped("notification_type")), {"whatsapp_crm"})
        self.assertEqual(notifications.res_partner_id, self.conversation.partner_id)
        self.assertEqual(set(notifications.mapped("notification_status")), {"sent"})
        body_before = posted.mapped("body")
        self.post_ok(self.status_payload([{
            "id": message.wamid, "status": "read", "timestamp": "1767225600",
            "recipient_id": WA_ID,
        }], account=self.sim_line), secret=self.sim_account.app_secret)
        self.assertEqual(message.state, "read")
        self.assertEqual(posted.mapped("body"), body_before, "the post is never rewritten")
        self.assertFalse(self.env["mail.mail"].search([("mail_message_id", "in", posted.ids)]))

    def test_closed_window_is_refused_before_calling_meta(self):
        self.conversation.window_expires_at = "2020-01-01 00:00:00"
        with self.assertRaisesRegex(UserError, "24-hour window"):
            # The composer proposes a template; a salesperson who insists on free text:
            self._send_from_lead(use_template=False, body="Are you there?")
        self.assertFalse(self.sent_requests())

    def test_document_is_uploaded_then_sent_with_its_file_name(self):
        attachment = self.env["ir.attachment"].create({
            "name": "quotation-S00042.pdf",
            "datas": base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
            "mimetype": "application/pdf",
        })
        message = self._send_from_lead(body="Here is your quote", attachment_ids=attachment)
        self._run_queue()
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.message_type, "document")
        self.assertTrue(self.simulator.requests("/media"))
        document = self.sent_requests()[0]["json"]["document"]
        self.assertEqual(document["filename"], "quotation-S00042.pdf")
        self.assertEqual(document["caption"], "Here is your quote")
        self.assertEqual(document["id"], message.media_id)

    @mute_logger(OUTBOUND_LOGGER)
    def test_throughput_error_is_retried_with_backoff_and_sent_once(self):
        self.simulator.inject_fault("graph_error", count=1, code=130429, path="/messages")
        message = self._send_from_lead(body="busy line")
        self._run_queue()
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.error_code, 130429)
        self.assertGreater(message.next_attempt_at, message.last_attempt_at)
        self._run_queue()  # not due yet
        self.assertEqual(message.send_attempts, 1)
        message.next_attempt_at = "2000-01-01 00:00:00"
        self._run_queue()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(self.sent_requests()), 1)

    @mute_logger(OUTBOUND_LOGGER)
    def test_lost_answer_is_reconciled_from_the_status_webhook_not_resent(self):
        self.env["ir.config_parameter"].set_param("whatsapp_crm.send_reconcile_seconds", "600")
        self.simulator.inject_fault("drop_response", count=1, path="/messages")
        message = self._send_from_lead(body="did it arrive?")
        self._run_queue()
        self.assertEqual(message.state, "queued")
        self.assertTrue(message.awaiting_reconciliation)
        accepted = self.sent_requests()
        self.assertEqual(len(accepted), 1)
        wamid = accepted[0]["wamid"]
        self.post_ok(self.status_payload([{
            "id": wamid, "status": "sent", "timestamp": "1795660000", "recipient_id": WA_ID,
            "biz_opaque_callback_data": f"whatsapp.crm.message:{message.id}",
        }], account=self.sim_line), secret=self.sim_account.app_secret)
        self.assertEqual(message.wamid, wamid)
        self.assertEqual(message.state, "sent")
        message.next_attempt_at = "2000-01-01 00:00:00"
        self._run_queue()
        self.assertEqual(len(self.sent_requests()), 1)

    @mute_logger(OUTBOUND_LOGGER)
    def test_lost_answer_without_any_status_is_resent_after_the_delay(self):
        self.simulator.inject_fault("http_500", count=1, path="/messages")
        message = self._send_from_lead(body="second try")
        self._run_queue()
        self.assertEqual(message.state, "queued")
        message.next_attempt_at = "2000-01-01 00:00:00"
        self._run_queue()
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.send_attempts, 2)

    @mute_logger(OUTBOUND_LOGGER)
    def test_refusal_fails_with_a_readable_reason_and_can_be_resent(self):
        self.simulator.inject_fault("graph_error", count=1, code=131026, path="/messages")
        message = self._send_from_lead(body="hello?")
        self._run_queue()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_code, 131026)
        self.assertIn("cannot receive WhatsApp messages", message.error_message)
        notifications = message.mail_message_ids.notification_ids
        self.assertEqual(set(notifications.mapped("notification_status")), {"exception"})
        self.assertEqual(set(notifications.mapped("failure_type")), {"whatsapp_crm_error"})
        self.assertIn("cannot receive WhatsApp messages", notifications[0].failure_reason)
        self.assertTrue(message.action_resend())
        self.assertEqual(set(notifications.mapped("notification_status")), {"ready"})
        self._run_queue()
        self.assertEqual(message.state, "sent")
        self.assertEqual(set(notifications.mapped("notification_status")), {"sent"})


class ApprovedTemplateMixin:
    """A customer who wrote in, and approved templates known to Odoo and the simulator."""

    def setUp(self):
        super().setUp()
        self.inbound = self.customer_writes("5511955550000", name="Rafaela Souza", text="Oi!")
        self.lead = self.inbound.lead_id
        self.conversation = self.inbound.conversation_id

    def _template(self, name="pedido_pronto", category="utility", **values):
        components = [{"type": "BODY", "text": "Olá {{1}}, seu pedido está pronto.",
                       "example": {"body_text": [["Ana"]]}}]
        self.simulator.seed_template({
            "name": name, "language": "pt_BR", "category": category.upper(),
            "components": components, "status": "APPROVED",
        }, waba_id=self.sim_account.waba_id)
        template = self.env["whatsapp.crm.template"].create({
            "name": name, "language": "pt_BR", "category": category, "status": "approved",
            "account_id": self.sim_line.id, "components": components, **values,
        })
        template.variable_ids.field_path = "partner_id.name"
        return template



@tagged("post_install", "-at_install")
class TestOutboundTemplates(ApprovedTemplateMixin, WhatsappCrmSimulatorCase):
    def _composer(self, template):
        context = {"active_model": "crm.lead", "active_ids": self.lead.ids}
        composer = Form(self.env["whatsapp.crm.composer"].with_context(**context))
        composer.account_id = self.sim_line
        composer.use_template = True
        composer.template_id = template
        return composer

    def test_template_goes_out_when_the_window_is_closed(self):
        self.conversation.window_expires_at = "2020-01-01 00:00:00"
        template = self._template()
        composer = self._composer(template)
        self.assertEqual(composer.template_preview, "Olá Rafaela Souza, seu pedido está pronto.")
        composer.save().action_send()
        message = self.conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(message.template_id, template)
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()
        self.assertEqual(message.state, "sent")
        sent = self.sent_requests()[0]["json"]["template"]
        self.assertEqual(sent["name"], "pedido_pronto")
        self.assertEqual(sent["components"][0]["parameters"][0]["text"], "Rafaela Souza")

    def test_marketing_template_needs_the_customer_opt_in(self):
        template = self._template(name="promo_verao", category="marketing")
        with self.assertRaisesRegex(UserError, "marketing"):
            self._composer(template).save().action_send()
        self.assertFalse(self.sent_requests())
        self.lead.partner_id.whatsapp_opt_in = "opted_in"
        self._composer(template).save().action_send()
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()
        self.assertEqual(len(self.sent_requests()), 1)

    def test_paused_template_is_refused_with_a_clear_reason(self):
        template = self._template(name="aviso_pausado")
        template.status = "paused"
        composer = self._composer(template)
        with self.assertRaisesRegex(UserError, "paused"):
            composer.save().action_send()
        self.assertFalse(self.sent_requests())


@tagged("post_install", "-at_install")
class TestReadReceipts(WhatsappCrmSimulatorCase):
    def test_opening_a_conversation_marks_the_newest_inbound_message_read(self):
        self.customer_writes("5511944440000", text="first")
        last = self.customer_writes("5511944440000", text="second")
        conversation = last.conversation_id
        self.assertIs(conversation.action_mark_read(), True)
        reads = [r["json"] for r in self.sent_requests() if r["json"].get("status") == "read"]
        self.assertEqual(reads, [{"messaging_product": "whatsapp", "status": "read",
                                  "message_id": last.wamid}])
        self.assertTrue(all(conversation.whatsapp_message_ids.mapped("marked_read")))
        conversation.action_mark_read()  # nothing new: no second receipt
        self.assertEqual(len([r for r in self.sent_requests()
                              if r["json"].get("status") == "read"]), 1)


@tagged("post_install", "-at_install")
class TestSendWhatsappServerAction(ApprovedTemplateMixin, WhatsappCrmSimulatorCase):
    def test_automation_sends_the_template_and_notes_records_it_cannot_reach(self):
        template = self._template(name="lembrete_visita")
        reachable = self.env["crm.lead"].create({
            "name": "Visit", "partner_id": self.lead.partner_id.id,
        })
        unreachable = self.env["crm.lead"].create({
            "name": "No phone", "partner_id": self.env["res.partner"].create({"name": "X"}).id,
        })
        action = self.env["ir.actions.server"].create({
            "name": "Remind by WhatsApp",
            "model_id": self.env["ir.model"]._get_id("crm.lead"),
            "state": "whatsapp_crm",
            "whatsapp_crm_template_id": template.id,
        })
        action.with_context(active_model="crm.lead",
                            active_ids=(reachable | unreachable).ids).run()
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()
        sent = self.sent_requests()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["json"]["template"]["name"], "lembrete_visita")
        self.assertTrue(unreachable.message_ids.filtered(lambda m: "not sent" in (m.body or "")))


@tagged("post_install", "-at_install")
class TestInteractiveAndReactions(WhatsappCrmSimulatorCase):
    def setUp(self):
        super().setUp()
        self.inbound = self.customer_writes("5511933330000", name="Lúcia", text="Qual plano?")

    def _composer(self, **values):
        context = {"active_model": "crm.lead", "active_ids": self.inbound.lead_id.ids}
        composer = Form(self.env["whatsapp.crm.composer"].with_context(**context))
        composer.account_id = self.sim_line
        for name, value in values.items():
            setattr(composer, name, value)
        return composer.save()

    def _send_queue(self):
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()

    def test_reply_buttons_are_sent_and_the_tap_comes_back(self):
        self._composer(body="Confirma a visita?", interactive_kind="buttons",
                       button_titles="Sim\nNão").action_send()
        self._send_queue()
        sent = self.sent_requests()[0]["json"]
        self.assertEqual(sent["type"], "interactive")
        buttons = sent["interactive"]["action"]["buttons"]
        self.assertEqual([b["reply"]["title"] for b in buttons], ["Sim", "Não"])
        tap = self.customer_writes("5511933330000", type="interactive",
                                   button_reply={"id": buttons[0]["reply"]["id"], "title": "Sim"})
        self.assertEqual(tap.message_type, "interactive")
        self.assertEqual(tap.interactive_reply_id, buttons[0]["reply"]["id"])

    def test_too_many_buttons_are_refused_before_meta(self):
        with self.assertRaisesRegex(UserError, "3 reply buttons"):
            self._composer(body="?", interactive_kind="buttons",
                           button_titles="a\nb\nc\nd").action_send()
        self.assertFalse(self.sent_requests())

    def test_list_is_sent(self):
        self._composer(body="Escolha", interactive_kind="list", list_button="Planos",
                       list_rows="Básico | 10 usuários\nPro").action_send()
        self._send_queue()
        rows = self.sent_requests()[0]["json"]["interactive"]["action"]["sections"][0]["rows"]
        self.assertEqual([row["title"] for row in rows], ["Básico", "Pro"])

    def test_salesperson_reacts_to_the_customer_message(self):
        self.inbound.with_context(emoji="❤️").action_react()
        self._send_queue()
        sent = self.sent_requests()[0]["json"]
        self.assertEqual(sent["reaction"], {"message_id": self.inbound.wamid, "emoji": "❤️"})


@tagged("post_install", "-at_install")
class TestComposerOnSeveralLeads(WhatsappCrmSimulatorCase):
    def test_list_action_sends_to_open_windows_and_reports_the_others(self):
        open_lead = self.customer_writes("5511922220001", name="Aberta", text="oi").lead_id
        closed = self.customer_writes("5511922220002", name="Fechada", text="oi")
        closed.conversation_id.window_expires_at = "2020-01-01 00:00:00"
        no_phone = self.env["crm.lead"].create({"name": "Sem telefone"})
        leads = open_lead | closed.lead_id | no_phone
        composer = Form(self.env["whatsapp.crm.composer"].with_context(
            active_model="crm.lead", active_ids=leads.ids))
        composer.account_id = self.sim_line
        composer.use_template = False
        composer.body = "Promoção relâmpago hoje"
        result = composer.save().action_send()
        self.assertEqual(result["params"]["title"], "1 of 3 WhatsApp messages queued")
        self.assertIn("Fechada", result["params"]["message"])
        self.assertIn("Sem telefone", result["params"]["message"])
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()
        sent = self.sent_requests()
        self.assertEqual([r["json"]["to"] for r in sent], ["+5511922220001"])


@tagged("post_install", "-at_install")
class TestMetaOptOutError(WhatsappCrmSimulatorCase):
    @mute_logger(OUTBOUND_LOGGER)
    def test_error_131050_records_the_opt_out(self):
        inbound = self.customer_writes("5511911110000", name="Paula", text="oi")
        partner = inbound.partner_id
        partner.whatsapp_opt_in = "opted_in"
        self.simulator.inject_fault("graph_error", count=1, code=131050, path="/messages")
        composer = Form(self.env["whatsapp.crm.composer"].with_context(
            active_model="crm.lead", active_ids=inbound.lead_id.ids))
        composer.account_id = self.sim_line
        composer.use_template = False
        composer.body = "Oferta"
        composer.save().action_send()
        self.env.flush_all()
        self.env["whatsapp.crm.message"]._cron_send_queue()
        self.assertEqual(partner.whatsapp_opt_in, "opted_out")
        self.assertEqual(partner.whatsapp_consent_log_ids[:1].source, "meta_error")
