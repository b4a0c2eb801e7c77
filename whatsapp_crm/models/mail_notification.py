from odoo import fields, models


class MailNotification(models.Model):
    _inherit = "mail.notification"

    notification_type = fields.Selection(
        selection_add=[("whatsapp_crm", "WhatsApp")], ondelete={"whatsapp_crm": "cascade"}
    )
    failure_type = fields.Selection(selection_add=[("whatsapp_crm_error", "WhatsApp Error")])
