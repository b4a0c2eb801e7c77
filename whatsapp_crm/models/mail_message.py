from odoo import fields, models

from odoo.addons.mail.tools.discuss import Store


class MailMessage(models.Model):
    _inherit = "mail.message"

    message_type = fields.Selection(
        selection_add=[("whatsapp_crm", "WhatsApp")],
        ondelete={"whatsapp_crm": lambda messages: messages.write({"message_type": "comment"})},
    )
    whatsapp_crm_message_id = fields.Many2one(
        "whatsapp.crm.message",
        string="WhatsApp Message",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )

    def _to_store_defaults(self, target):
        return super()._to_store_defaults(target) + self._whatsapp_crm_store_fields()

    def _whatsapp_crm_store_fields(self):
        """The WhatsApp state of a post, read from the message it mirrors (the truth).

        sudo: the post is readable, and its delivery state is all that is shown.
        """
        def state(post):
            return post.sudo().whatsapp_crm_message_id.state or False

        def error(post):
            message = post.sudo().whatsapp_crm_message_id
            return message.error_message or False if message.state == "failed" else False

        def is_whatsapp(post):
            return post.message_type == "whatsapp_crm"

        return [
            Store.Attr("whatsapp_crm_direction",
                       lambda post: post.sudo().whatsapp_crm_message_id.direction or False,
                       predicate=is_whatsapp),
            Store.Attr("whatsapp_crm_state", state, predicate=is_whatsapp),
            Store.Attr("whatsapp_crm_error", error, predicate=is_whatsapp),
        ]

    def _whatsapp_crm_bus_send_state(self, partners):
        """Push the new delivery state of these posts to the partners' open chatters."""
        for user in partners.sudo().main_user_id:
            store = Store(bus_channel=user)
            store.add(self.with_user(user), self._whatsapp_crm_store_fields())
            store.add(self.sudo().notification_ids.filtered(
                lambda notification: notification.notification_type == "whatsapp_crm"
            ))
            store.bus_send()
