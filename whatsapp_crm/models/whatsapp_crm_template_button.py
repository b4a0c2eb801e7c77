from odoo import fields, models

BUTTON_TYPES = [
    ("quick_reply", "Quick Reply"),
    ("url", "Visit Website"),
    ("phone_number", "Call Phone Number"),
    ("copy_code", "Copy Offer Code"),
]


class WhatsappCrmTemplateButton(models.Model):
    _name = "whatsapp.crm.template.button"
    _description = "WhatsApp Template Button"
    _order = "sequence, id"

    template_id = fields.Many2one(
        "whatsapp.crm.template", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    type = fields.Selection(BUTTON_TYPES, required=True, default="quick_reply")
    text = fields.Char(string="Label", help="At most 25 characters.")
    url = fields.Char(
        string="URL", help="May end with one variable, e.g. https://shop.example/order/{{1}}."
    )
    phone_number = fields.Char()
    example = fields.Char(
        help="Example of the URL variable's value, or the offer code of a copy-code button."
    )
