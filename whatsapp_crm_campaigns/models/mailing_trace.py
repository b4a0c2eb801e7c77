from odoo import fields, models

from ..lib import rules


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    trace_type = fields.Selection(
        selection_add=[("whatsapp_crm", "WhatsApp")], ondelete={"whatsapp_crm": "set default"}
    )
    whatsapp_crm_message_id = fields.Many2one(
        "whatsapp.crm.message", string="WhatsApp Message", index="btree_not_null",
        ondelete="set null",
    )
    whatsapp_crm_number = fields.Char(
        string="WhatsApp Number", help="The recipient's number (E.164) this trace is for."
    )
    failure_type = fields.Selection(selection_add=[
        (rules.NO_CONSENT, "No WhatsApp marketing consent"),
        (rules.OPTED_OUT, "Opted out of WhatsApp marketing"),
        (rules.NO_NUMBER, "No valid WhatsApp number"),
        (rules.DUPLICATE, "Number already in this mailing"),
        (rules.FREQUENCY_CAP, "WhatsApp frequency cap reached"),
        (rules.BLACKLISTED, "Blacklisted number"),
        (rules.US_MARKETING, "US number (no marketing templates)"),
        (rules.USER_LIMIT, "Meta's per-user marketing limit"),
        (rules.TEMPLATE_UNAVAILABLE, "WhatsApp template unavailable"),
        (rules.ERROR, "WhatsApp error"),
        (rules.UNDELIVERABLE, "Undeliverable on WhatsApp"),
    ])
