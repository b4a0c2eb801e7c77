from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.whatsapp_crm.lib import phone

from ..lib import rules

MAILING_TYPE = "whatsapp_crm"
PREPARE_CHUNK = 1000


class MailingMailing(models.Model):
    """WhatsApp as a channel of Odoo's Email Marketing, as mass_mailing_sms does for SMS.

    Odoo's mass-mailing queue launches our mailings too: `_action_send_mail` prepares
    their traces (one per targeted recipient, the excluded ones with their reason), and
    `_get_remaining_recipients` counts the recipients whose trace is still outgoing, so
    that the queue marks a mailing done only when nothing is left to send.
    """

    _inherit = "mailing.mailing"

    mailing_type = fields.Selection(
        selection_add=[(MAILING_TYPE, "WhatsApp")], ondelete={MAILING_TYPE: "set default"}
    )
    state = fields.Selection(
        selection_add=[("paused", "Paused"), ("done",)],
        ondelete={"paused": lambda mailings: mailings.write({"state": "draft"})},
    )
    whatsapp_crm_account_id = fields.Many2one(
        "whatsapp.crm.account", string="WhatsApp Account", ondelete="restrict"
    )
    whatsapp_crm_template_id = fields.Many2one(
        "whatsapp.crm.template",
        string="WhatsApp Template",
        ondelete="restrict",
        domain="[('status', '=', 'approved'), ('account_id', '=', whatsapp_crm_account_id)]",
    )
    whatsapp_crm_transactional = fields.Boolean(
        string="Transactional",
        help="A utility template that also reaches contacts whose consent is unknown "
        "(never those who opted out). The reason is kept.",
    )
    whatsapp_crm_transactional_reason = fields.Text(string="Why Transactional")
    whatsapp_crm_audience = fields.Json(
        string="Audience Counts", copy=False, readonly=True,
        help="Recipients counted by the last preview: who gets it, who is left out and why.",
    )
    whatsapp_crm_audience_html = fields.Html(
        string="Audience", compute="_compute_whatsapp_crm_audience_html", sanitize=False,
    )

    # ------------------------------------------------------------------
    # Actions: Odoo's return None, which XML-RPC refuses
    # ------------------------------------------------------------------

    def _whatsapp_crm(self):
        return self.filtered(lambda mailing: mailing.mailing_type == MAILING_TYPE)

    def action_put_in_queue(self):
        self._whatsapp_crm()._check_whatsapp_crm_ready()
        super().action_put_in_queue()
        return True

    def action_launch(self):
        super().action_launch()
        return True

    def action_cancel(self):
        """Also stops a WhatsApp mailing that is sending: its outgoing traces are
        cancelled (what was sent stays as it is)."""
        self.env["mailing.trace"].sudo().search([
            ("mass_mailing_id", "in", self._whatsapp_crm().ids),
            ("trace_status", "=", "outgoing"),
        ]).write({"trace_status": "cancel"})
        super().action_cancel()
        return True

    def action_pause(self):
        self._whatsapp_crm().filtered(lambda m: m.state in ("in_queue", "sending")).write(
            {"state": "paused"})
        return True

    def action_resume(self):
        self._whatsapp_crm().filtered(lambda m: m.state == "paused").action_put_in_queue()
        return True

    def _check_whatsapp_crm_ready(self):
        for mailing in self:
            template = mailing.whatsapp_crm_template_id
            if not mailing.whatsapp_crm_account_id or not template:
                raise UserError(self.env._(
                    "The WhatsApp mailing %(name)s needs an account and an approved template.",
                    name=mailing.subject))
            if template.status != "approved":
                raise UserError(self.env._(
                    "The template %(template)s is not approved by Meta.",
                    template=template.display_name))
            if mailing.whatsapp_crm_transactional and template.category != "utility":
                raise UserError(self.env._(
                    "Only a utility template can be sent as transactional."))

    # ------------------------------------------------------------------
    # Odoo's queue: preparation
    # ------------------------------------------------------------------

    def _action_send_mail(self, res_ids=None):
        whatsapp = self._whatsapp_crm()
        for mailing in whatsapp:
            mailing._whatsapp_crm_prepare_traces(res_ids)
        return super(MailingMailing, self - whatsapp)._action_send_mail(res_ids=res_ids)

    def _get_remaining_recipients(self):
        if self.mailing_type != MAILING_TYPE:
            return super()._get_remaining_recipients()
        traced = self.env["mailing.trace"].search_read(
            [("mass_mailing_id", "=", self.id)], ["res_id", "trace_status"])
        done = {t["res_id"] for t in traced if t["trace_status"] != "outgoing"}
        return [res_id for res_id in self._get_recipients() if res_id not in done]

    def _whatsapp_crm_prepare_traces(self, res_ids=None):
        """One trace per targeted recipient not traced yet: outgoing, or cancelled with
        the reason of its exclusion (lib/rules.exclusion)."""
        self.ensure_one()
        Trace = self.env["mailing.trace"].sudo()
        for chunk in self._whatsapp_crm_plan(res_ids):
            Trace.create([{
                "trace_type": MAILING_TYPE, "mass_mailing_id": self.id,
                "model": self.mailing_model_real, "res_id": res_id,
                "whatsapp_crm_number": e164 or False,
                "trace_status": "cancel" if reason else "outgoing",
                "failure_type": reason or False,
            } for res_id, e164, reason in chunk])
        return True

    def _whatsapp_crm_plan(self, res_ids=None):
        """Who gets the mailing: chunks of (res_id, number, exclusion reason or None) for
        the targeted recipients not traced yet. Reads only; preparation writes them."""
        self.ensure_one()
        Trace = self.env["mailing.trace"].sudo()
        traced = set(Trace.search([("mass_mailing_id", "=", self.id)]).mapped("res_id"))
        seen = set(Trace.search([
            ("mass_mailing_id", "=", self.id), ("trace_status", "!=", "cancel"),
        ]).mapped("whatsapp_crm_number"))
        res_ids = [rid for rid in (res_ids or self._get_recipients()) if rid not in traced]
        Model = self.env[self.mailing_model_real]
        marketing = self.whatsapp_crm_template_id.category == "marketing"
        company = self.whatsapp_crm_account_id.company_id or self.env.company
        cap = company.whatsapp_crm_marketing_cap or None
        for start in range(0, len(res_ids), PREPARE_CHUNK):
            records = Model.browse(res_ids[start:start + PREPARE_CHUNK])
            numbers = {record.id: _e164_of(record, _partner_of(record)) for record in records}
            known = [n for n in numbers.values() if n]
            blacklisted = set(self.env["phone.blacklist"].sudo().search([
                ("number", "in", known), ("active", "=", True),
            ]).mapped("number"))
            recent = self._whatsapp_crm_recent_marketing(
                known, company.whatsapp_crm_marketing_cap_days) if marketing and cap else {}
            chunk = []
            for record in records:
                partner = _partner_of(record)
                e164 = numbers[record.id]
                chunk.append((record.id, e164, rules.exclusion(
                    e164=e164,
                    blacklisted=e164 in blacklisted,
                    consent=(partner.whatsapp_opt_in if partner else "unknown") or "unknown",
                    transactional=self.whatsapp_crm_transactional,
                    marketing=marketing, seen_numbers=seen,
                    recent_marketing=recent.get(e164, 0), cap=cap)))
            yield chunk

    def action_whatsapp_crm_preview(self):
        """Before launch: how many recipients get it, and how many are left out, why."""
        for mailing in self._whatsapp_crm():
            counts = {}
            for chunk in mailing._whatsapp_crm_plan():
                for _res_id, _e164, reason in chunk:
                    counts[reason or "send"] = counts.get(reason or "send", 0) + 1
            mailing.whatsapp_crm_audience = counts
        return True

    @api.depends("whatsapp_crm_audience")
    def _compute_whatsapp_crm_audience_html(self):
        labels = dict(self.env["mailing.trace"]._fields["failure_type"]._description_selection(
            self.env))
        for mailing in self:
            counts = dict(mailing.whatsapp_crm_audience or {})
            if not counts:
                mailing.whatsapp_crm_audience_html = False
                continue
            lines = [self.env._("%(count)s recipients will get it", count=counts.pop("send", 0))]
            lines += [self.env._("%(count)s left out: %(reason)s", count=count,
                                 reason=labels.get(reason, reason))
                      for reason, count in sorted(counts.items(), key=lambda item: -item[1])]
            mailing.whatsapp_crm_audience_html = Markup("<ul>%s</ul>") % Markup("").join(
                Markup("<li>%s</li>") % line for line in lines)

    def _whatsapp_crm_recent_marketing(self, numbers, days):
        """{number: marketing templates it was sent in the last ``days`` days}, across
        every WhatsApp mailing (the frequency cap's data, one query per chunk)."""
        if not numbers:
            return {}
        self.env["mailing.trace"].flush_model()
        self.env.cr.execute(
            """
            SELECT trace.whatsapp_crm_number, count(*)
              FROM mailing_trace trace
              JOIN mailing_mailing mailing ON mailing.id = trace.mass_mailing_id
              JOIN whatsapp_crm_template template
                ON template.id = mailing.whatsapp_crm_template_id
             WHERE trace.trace_type = 'whatsapp_crm'
               AND trace.trace_status IN ('pending', 'sent', 'open', 'reply')
               AND template.category = 'marketing'
               AND trace.sent_datetime > (now() at time zone 'UTC') - make_interval(days => %s)
               AND trace.whatsapp_crm_number = ANY(%s)
             GROUP BY trace.whatsapp_crm_number
            """,
            [days, numbers],
        )
        return dict(self.env.cr.fetchall())


def _partner_of(record):
    if record._name == "res.partner":
        return record
    partner = record["partner_id"] if "partner_id" in record._fields else None
    return partner if partner and partner._name == "res.partner" else None


def _e164_of(record, partner):
    """The recipient's number in E.164, or None when it has none that is valid."""
    for holder in (record, partner):
        if holder is None:
            continue
        number = holder["phone"] if "phone" in holder._fields else None
        if number:
            try:
                return phone.to_e164(number)
            except phone.InvalidPhoneNumber:
                continue
    return None
