from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    whatsapp_available = fields.Boolean(
        string="Available for WhatsApp",
        default=True,
        help="Unavailable agents get no new WhatsApp conversation, and their open "
        "conversations go to other members of their team.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "whatsapp_available"]

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return [*super().SELF_WRITEABLE_FIELDS, "whatsapp_available"]

    def write(self, vals):
        leaving = self.browse()
        if "whatsapp_available" in vals and not vals["whatsapp_available"]:
            leaving = self.filtered("whatsapp_available")
        result = super().write(vals)
        if leaving:
            self.env["whatsapp.crm.conversation"].sudo()._reassign_from_users(leaving)
        return result
