from odoo import models

KEYWORD_MESSAGE_TYPES = {"text", "button", "interactive"}


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    def _consent_keyword_texts(self):
        """What the customer said: the text, or the tapped button's payload and label."""
        self.ensure_one()
        if self.message_type == "text":
            return [self.body]
        return [self.interactive_reply_id, self.body]

    def _apply_consent_keywords(self):
        """An inbound message that is exactly a consent keyword changes the consent."""
        Keyword = self.env["whatsapp.crm.consent.keyword"]
        for message in self:
            if (
                message.direction != "in"
                or message.message_type not in KEYWORD_MESSAGE_TYPES
                or not message.partner_id
            ):
                continue
            keyword = Keyword._match(message._consent_keyword_texts(), message.company_id)
            if keyword:
                message.partner_id.sudo()._whatsapp_set_consent(
                    Keyword._consent_state(keyword.action),
                    "inbound_keyword",
                    proof=message.body,
                    message=message,
                )
