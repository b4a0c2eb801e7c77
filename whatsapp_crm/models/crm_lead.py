from odoo import api, fields, models

REFERRAL_FIELDS = {
    "whatsapp_ad_source_id": "source_id",
    "whatsapp_ad_source_type": "source_type",
    "whatsapp_ad_source_url": "source_url",
    "whatsapp_ad_headline": "headline",
    "whatsapp_ad_ctwa_clid": "ctwa_clid",
}


class CrmLead(models.Model):
    _inherit = "crm.lead"

    whatsapp_conversation_ids = fields.One2many("whatsapp.crm.conversation", "lead_id")
    whatsapp_conversation_count = fields.Integer(compute="_compute_whatsapp_window")
    whatsapp_window_expires_at = fields.Datetime(compute="_compute_whatsapp_window")
    whatsapp_window_state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("none", "No Conversation")],
        string="WhatsApp Window",
        compute="_compute_whatsapp_window",
    )
    whatsapp_referral = fields.Json(string="Click-to-WhatsApp Ad", copy=False)
    whatsapp_ad_source_id = fields.Char(string="Ad ID", copy=False)
    whatsapp_ad_source_type = fields.Char(string="Ad Source Type", copy=False)
    whatsapp_ad_source_url = fields.Char(string="Ad URL", copy=False)
    whatsapp_ad_headline = fields.Char(string="Ad Headline", copy=False)
    whatsapp_ad_ctwa_clid = fields.Char(string="Click ID (ctwa_clid)", copy=False)
    whatsapp_won_revenue = fields.Monetary(
        string="Won Revenue",
        currency_field="company_currency",
        compute="_compute_whatsapp_won_revenue",
        store=True,
        help="The expected revenue of the lead once it is won, for the reports.",
    )

    @api.depends("won_status", "expected_revenue")
    def _compute_whatsapp_won_revenue(self):
        for lead in self:
            lead.whatsapp_won_revenue = lead.expected_revenue if lead.won_status == "won" else 0.0

    def _whatsapp_conversations(self):
        """Conversations of the lead, or of its customer when none is linked yet."""
        self.ensure_one()
        Conversation = self.env["whatsapp.crm.conversation"]
        if self.whatsapp_conversation_ids:
            return self.whatsapp_conversation_ids
        if self.partner_id:
            return Conversation.search(
                [("partner_id", "child_of", self.partner_id.commercial_partner_id.id)]
            )
        return Conversation

    @api.depends("whatsapp_conversation_ids.window_expires_at", "partner_id")
    def _compute_whatsapp_window(self):
        Conversation = self.env["whatsapp.crm.conversation"]
        for lead in self:
            conversations = lead._whatsapp_conversations() if lead.id else Conversation
            lead.update(conversations._window_summary())

    @api.model
    def _whatsapp_open_lead_for(self, partner, account):
        if not partner:
            return self.browse()
        return self.search(
            [
                ("partner_id", "child_of", partner.commercial_partner_id.id),
                ("won_status", "=", "pending"),
                ("company_id", "in", [False, account.company_id.id]),
            ],
            order="create_date desc, id desc",
            limit=1,
        )

    @api.model
    def _whatsapp_create_from_conversation(self, conversation, referral=None):
        account = conversation.account_id
        partner = conversation.partner_id
        team = account.team_id
        user = conversation.user_id  # the routing decision (see _route)
        values = {
            "name": self.env._(
                "WhatsApp: %(name)s", name=partner.name or conversation.profile_name or ""
            ),
            "type": "lead" if self._whatsapp_uses_leads() else "opportunity",
            "partner_id": partner.id,
            "phone": partner.phone or (conversation.wa_id and f"+{conversation.wa_id}"),
            "source_id": self.env.ref("whatsapp_crm.utm_source_whatsapp").id,
            "medium_id": self.env.ref("whatsapp_crm.utm_medium_whatsapp").id,
            "team_id": team.id,
            "user_id": user.id,
            "company_id": account.company_id.id,
        }
        lead = self.with_context(mail_create_nosubscribe=True).create(values)
        if referral:
            lead._whatsapp_set_referral(referral)
        return lead

    @api.model
    def _whatsapp_uses_leads(self):
        """Whether the company works with leads before opportunities (a CRM setting)."""
        employee = self.env.ref("base.group_user").sudo()
        return self.env.ref("crm.group_use_lead") in employee.all_implied_ids

    def _whatsapp_set_referral(self, referral):
        values = {"whatsapp_referral": referral}
        for field_name, key in REFERRAL_FIELDS.items():
            values[field_name] = referral.get(key) or False
        self.write(values)

    def action_view_whatsapp_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_conversation_action"
        )
        action["domain"] = [("id", "in", self._whatsapp_conversations().ids)]
        return action
