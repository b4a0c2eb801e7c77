from markupsafe import Markup

from odoo import fields, models
from odoo.tools import plaintext2html

from .whatsapp_crm_message import MESSAGE_TYPES

# Delivery ticks as WhatsApp shows them: one grey, two grey, two blue, or a failure.
TICKS = {
    "queued": Markup('<span class="fa fa-clock-o text-muted" title="%s"></span>'),
    "sent": Markup('<span class="fa fa-check text-muted" title="%s"></span>'),
    "delivered": Markup(
        '<span class="o_whatsapp_crm_ticks text-muted" title="%s">'
        '<span class="fa fa-check"></span><span class="fa fa-check"></span></span>'
    ),
    "read": Markup(
        '<span class="o_whatsapp_crm_ticks text-info" title="%s">'
        '<span class="fa fa-check"></span><span class="fa fa-check"></span></span>'
    ),
    "failed": Markup('<span class="fa fa-exclamation-circle text-danger" title="%s"></span>'),
}


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    def _chatter_body(self):
        """The message as the chatter shows it; the customer's text is escaped."""
        self.ensure_one()
        label = dict(MESSAGE_TYPES).get(self.message_type, self.message_type)
        header = Markup('<span class="fa fa-whatsapp" title="WhatsApp"></span> ')
        if self.message_type not in ("text", "template"):
            header += Markup("<em>%s</em> ") % label
        if self.reply_to_id:
            header += Markup("<em>%s</em> ") % self.env._(
                "(replying to: %(quote)s)", quote=(self.reply_to_id.body or "")[:60]
            )
        footer = Markup()
        if self.direction == "out":
            state_label = dict(self._fields["state"]._description_selection(self.env))
            tick = TICKS.get(self.state, Markup()) % state_label.get(self.state, "")
            footer = Markup('<div class="o_whatsapp_crm_status small">%s</div>') % tick
            if self.state == "failed" and self.error_message:
                footer += Markup('<div class="text-danger small">%s</div>') % self.error_message
        direction = "o_whatsapp_crm_in" if self.direction == "in" else "o_whatsapp_crm_out"
        return Markup('<div class="o_whatsapp_crm_body %s">%s%s%s</div>') % (
            direction, header, plaintext2html(self.body or ""), footer
        )

    def _post_to_chatter(self, author):
        """Show the message in the chatter of its lead and contact.

        Created directly, like a log: no follower gets an e-mail for every
        WhatsApp message (the inbox notifies the assigned agent instead).
        """
        self.ensure_one()
        body = self._chatter_body()
        subtype = self.env.ref("whatsapp_crm.mt_whatsapp_message")
        attachments = [fields.Command.link(attachment.id) for attachment in self.attachment_ids]
        self.env["mail.message"].sudo().create([
            {
                "model": record._name,
                "res_id": record.id,
                "body": body,
                "author_id": author.id,
                "message_type": "comment",
                "subtype_id": subtype.id,
                "whatsapp_crm_message_id": self.id,
                "attachment_ids": attachments,
            }
            for record in (self.lead_id, self.partner_id)
            if record
        ])
        self._notify_chatter_update()

    def _post_inbound_to_chatter(self):
        self._post_to_chatter(self.partner_id)

    def _post_outbound_to_chatter(self):
        self._post_to_chatter(self.author_user_id.partner_id or self.env.user.partner_id)

    def _refresh_chatter(self):
        """Redraw the ticks after a status change."""
        for message in self.filtered(lambda m: m.direction == "out"):
            message.mail_message_ids.sudo().write({"body": message._chatter_body()})

    def _post_failure_to_chatter(self, explanation):
        self.ensure_one()
        for record in (self.lead_id, self.partner_id):
            if record:
                record.sudo()._message_log(body=self.env._(
                    "WhatsApp message not sent: %(reason)s", reason=explanation))
