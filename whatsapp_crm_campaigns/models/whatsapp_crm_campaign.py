from ast import literal_eval

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain


class WhatsappCrmCampaign(models.Model):
    _name = "whatsapp.crm.campaign"
    _description = "WhatsApp Campaign"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    # state -> the states it may move to; every action goes through _set_state()
    _STATE_TRANSITIONS = {
        "draft": ("scheduled", "running"),
        "scheduled": ("draft", "running"),
        "running": ("paused", "done"),
        "paused": ("running", "done"),
        "done": (),
    }

    name = fields.Char(required=True, tracking=True)
    account_id = fields.Many2one(
        "whatsapp.crm.account",
        string="WhatsApp Account",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        tracking=True,
    )
    company_id = fields.Many2one(
        related="account_id.company_id", store=True, index=True, precompute=True
    )
    template_name = fields.Char(
        tracking=True, help="Name of the approved WhatsApp message template to send."
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("scheduled", "Scheduled"),
            ("running", "Running"),
            ("paused", "Paused"),
            ("done", "Done"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
    )
    schedule_date = fields.Datetime(
        string="Scheduled For", copy=False, help="When a scheduled campaign starts sending."
    )
    segment_domain = fields.Char(
        string="Segment",
        default="[]",
        required=True,
        help="Filter on contacts: who receives the campaign.",
    )
    recipient_count = fields.Integer(
        string="Recipients",
        compute="_compute_recipient_count",
        help="Contacts of the segment with a valid, not blacklisted phone number.",
    )

    @api.constrains("segment_domain")
    def _check_segment_domain(self):
        for campaign in self:
            try:
                Domain(literal_eval(campaign.segment_domain or "[]")).validate(
                    self.env["res.partner"]
                )
            except (ValueError, SyntaxError, TypeError) as exc:
                raise ValidationError(
                    self.env._(
                        "The segment of campaign %(name)s is not a valid filter on contacts: "
                        "%(error)s",
                        name=campaign.name,
                        error=exc,
                    )
                ) from exc

    @api.depends("segment_domain", "company_id")
    def _compute_recipient_count(self):
        partners = self.env["res.partner"]
        for campaign in self:
            try:
                campaign.recipient_count = partners.search_count(
                    campaign._get_recipient_domain()
                )
            except (ValueError, SyntaxError, TypeError):
                campaign.recipient_count = 0

    def _get_recipient_domain(self):
        """Contacts reached by the campaign: the segment, restricted to reachable numbers."""
        self.ensure_one()
        domain = Domain(literal_eval(self.segment_domain or "[]"))
        domain &= Domain("phone_sanitized", "!=", False)
        domain &= Domain("phone_sanitized_blacklisted", "=", False)
        if self.company_id:
            domain &= Domain("company_id", "in", [False, self.company_id.id])
        return domain

    def _set_state(self, target):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for campaign in self:
            if target not in self._STATE_TRANSITIONS[campaign.state]:
                raise UserError(
                    self.env._(
                        "Campaign %(name)s cannot go from %(current)s to %(target)s.",
                        name=campaign.name,
                        current=labels[campaign.state],
                        target=labels[target],
                    )
                )
        self.write({"state": target})
        return True

    def _check_ready_to_send(self):
        for campaign in self:
            if not campaign.template_name:
                raise UserError(
                    self.env._("Choose the template of campaign %(name)s first.",
                               name=campaign.name)
                )

    def action_schedule(self):
        self._check_ready_to_send()
        for campaign in self:
            if not campaign.schedule_date:
                raise UserError(
                    self.env._("Set when campaign %(name)s should start.", name=campaign.name)
                )
        return self._set_state("scheduled")

    def action_start(self):
        self._check_ready_to_send()
        return self._set_state("running")

    def action_pause(self):
        return self._set_state("paused")

    def action_resume(self):
        return self._set_state("running")

    def action_done(self):
        return self._set_state("done")

    def action_draft(self):
        return self._set_state("draft")

    def action_view_recipients(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recipients of %(name)s", name=self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": list(self._get_recipient_domain()),
        }
