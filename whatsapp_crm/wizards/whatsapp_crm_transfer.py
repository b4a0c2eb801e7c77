from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError


class WhatsappCrmTransfer(models.TransientModel):
    _name = "whatsapp.crm.transfer"
    _description = "Transfer a WhatsApp Conversation"

    conversation_ids = fields.Many2many(
        "whatsapp.crm.conversation",
        string="Conversations",
        required=True,
        default=lambda self: self._default_conversations(),
    )
    target = fields.Selection(
        [("user", "A colleague"), ("team", "A team")],
        string="Transfer To",
        default="user",
        required=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Colleague", domain=[("share", "=", False)]
    )
    team_id = fields.Many2one(
        "crm.team",
        help="The conversation goes to an available member of the team, by the team's "
        "assignment method, or waits in the team's queue.",
    )
    note = fields.Text(help="Posted as an internal note in the conversation.")

    @api.model
    def _default_conversations(self):
        context = self.env.context
        if context.get("active_model") != "whatsapp.crm.conversation":
            return self.env["whatsapp.crm.conversation"]
        ids = context.get("active_ids") or [context.get("active_id")]
        return self.env["whatsapp.crm.conversation"].browse([i for i in ids if i])

    def action_transfer(self):
        self.ensure_one()
        if self.target == "user" and not self.user_id:
            raise UserError(self.env._("Choose the colleague who takes the conversation over."))
        if self.target == "team" and not self.team_id:
            raise UserError(self.env._("Choose the team that takes the conversation over."))
        for conversation in self.conversation_ids:
            conversation.check_access("write")
            # Post first: after the transfer, the sender may not see the conversation anymore.
            conversation.message_post(
                body=self._transfer_note(),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            target = conversation.sudo()
            if self.target == "user":
                target.user_id = self.user_id
            else:
                target._assign_in_team(self.team_id)
        return {"type": "ir.actions.act_window_close"}

    def _transfer_note(self):
        destination = self.user_id.name if self.target == "user" else self.team_id.name
        title = self.env._("Transferred to %(destination)s", destination=destination)
        if not self.note:
            return title
        return Markup("<p>%s</p><p>%s</p>") % (title, self.note)
