from odoo import api, fields, models


class WhatsappCrmConversationDraft(models.Model):
    """An agent's unsent reply in a conversation: each agent has their own."""

    _name = "whatsapp.crm.conversation.draft"
    _description = "WhatsApp Reply Draft"

    conversation_id = fields.Many2one(
        "whatsapp.crm.conversation", required=True, index=True, ondelete="cascade"
    )
    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade")
    body = fields.Text()

    _conversation_user_uniq = models.Constraint(
        "UNIQUE(conversation_id, user_id)", "An agent has one draft per conversation."
    )

    @api.model
    def _store(self, conversation, user, body):
        """Keep ``body`` as ``user``'s draft in ``conversation``; an empty body removes it."""
        draft = self.search(
            [("conversation_id", "=", conversation.id), ("user_id", "=", user.id)], limit=1
        )
        if not (body or "").strip():
            draft.unlink()
        elif draft:
            draft.body = body
        else:
            self.create({"conversation_id": conversation.id, "user_id": user.id, "body": body})
