from odoo import fields, models


class MailMessage(models.Model):
    _inherit = "mail.message"

    whatsapp_crm_message_id = fields.Many2one(
        "whatsapp.crm.message",
        string="WhatsApp Message",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )
