from odoo import api, fields, models


class WhatsappCrmConversation(models.Model):
    _name = "whatsapp.crm.conversation"
    _description = "WhatsApp Conversation"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "last_message_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "whatsapp.crm.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    wa_id = fields.Char(
        string="WhatsApp ID",
        required=True,
        help="The customer's WhatsApp number (digits) or business-scoped user id.",
    )
    profile_name = fields.Char(help="Name the customer set in WhatsApp.")
    partner_id = fields.Many2one("res.partner", string="Contact", index=True, tracking=True)
    lead_id = fields.Many2one(
        "crm.lead", index="btree_not_null", tracking=True, ondelete="set null"
    )
    user_id = fields.Many2one(
        "res.users", string="Assigned To", index="btree_not_null", tracking=True
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", index="btree_not_null")
    state = fields.Selection(
        [
            ("new", "New"),
            ("open", "Open"),
            ("pending", "Pending Customer"),
            ("resolved", "Resolved"),
        ],
        default="new",
        required=True,
        index=True,
        tracking=True,
    )
    last_inbound_at = fields.Datetime(string="Last Customer Message", readonly=True)
    last_message_at = fields.Datetime(readonly=True, index=True)
    window_expires_at = fields.Datetime(
        string="Window Closes At",
        readonly=True,
        help="Free-form messages are allowed until 24 hours after the customer's last message.",
    )
    window_open = fields.Boolean(compute="_compute_window_open", search="_search_window_open")
    whatsapp_message_ids = fields.One2many(
        "whatsapp.crm.message", "conversation_id", string="WhatsApp Messages"
    )
    wa_message_count = fields.Integer(compute="_compute_wa_message_count")

    _account_wa_id_uniq = models.Constraint(
        "UNIQUE(account_id, wa_id)", "There is one conversation per customer and account."
    )

    @api.depends("partner_id.name", "profile_name", "wa_id", "account_id.name")
    def _compute_name(self):
        for conversation in self:
            who = conversation.partner_id.name or conversation.profile_name
            number = f"+{conversation.wa_id}" if (conversation.wa_id or "").isdigit() else ""
            conversation.name = " ".join(part for part in (who, number) if part) or "?"

    @api.depends("window_expires_at")
    @api.depends_context("uid")
    def _compute_window_open(self):
        now = fields.Datetime.now()
        for conversation in self:
            conversation.window_open = bool(
                conversation.window_expires_at and conversation.window_expires_at > now
            )

    def _search_window_open(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        now = fields.Datetime.now()
        wants_open = (True in value) == (operator == "in")
        if wants_open:
            return [("window_expires_at", ">", now)]
        return ["|", ("window_expires_at", "=", False), ("window_expires_at", "<=", now)]

    def _window_summary(self):
        """Values of the WhatsApp stat button of a contact or lead owning these conversations."""
        now = fields.Datetime.now()
        expiries = [expiry for expiry in self.mapped("window_expires_at") if expiry]
        expiry = max(expiries) if expiries else False
        state = "open" if expiry and expiry > now else "closed"
        return {
            "whatsapp_conversation_count": len(self),
            "whatsapp_window_expires_at": expiry,
            "whatsapp_window_state": state if self else "none",
        }

    def _compute_wa_message_count(self):
        counts = dict(
            self.env["whatsapp.crm.message"]._read_group(
                [("conversation_id", "in", self.ids)], ["conversation_id"], ["__count"]
            )
        )
        for conversation in self:
            conversation.wa_message_count = counts.get(conversation, 0)

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_message_action"
        )
        action["domain"] = [("conversation_id", "=", self.id)]
        return action

    def action_resolve(self):
        self.write({"state": "resolved"})

    def action_reopen(self):
        self.write({"state": "open"})
