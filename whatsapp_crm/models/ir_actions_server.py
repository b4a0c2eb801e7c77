import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class IrActionsServer(models.Model):
    """A "Send WhatsApp" step for automation rules: reminders, invoice and delivery notices."""

    _inherit = "ir.actions.server"

    state = fields.Selection(
        selection_add=[("whatsapp_crm", "Send WhatsApp")],
        ondelete={"whatsapp_crm": "cascade"},
    )
    whatsapp_crm_template_id = fields.Many2one(
        "whatsapp.crm.template",
        string="WhatsApp Template",
        ondelete="set null",
        domain="[('status', '=', 'approved'), '|', ('model_id', '=', False), "
        "('model_id', '=', model_id)]",
    )

    def _name_depends(self):
        return [*super()._name_depends(), "whatsapp_crm_template_id"]

    def _generate_action_name(self):
        self.ensure_one()
        if self.state == "whatsapp_crm" and self.whatsapp_crm_template_id:
            return self.env._(
                "Send WhatsApp %(template)s", template=self.whatsapp_crm_template_id.display_name
            )
        return super()._generate_action_name()

    @api.model
    def _warning_depends(self):
        return [*super()._warning_depends(), "whatsapp_crm_template_id", "model_id"]

    def _get_warning_messages(self):
        self.ensure_one()
        warnings = super()._get_warning_messages()
        template = self.whatsapp_crm_template_id
        if self.state == "whatsapp_crm" and template.model_id and \
                template.model_id != self.model_id:
            warnings.append(self.env._(
                "The WhatsApp template %(template)s is meant for another model.",
                template=template.display_name,
            ))
        return warnings

    def _run_action_whatsapp_crm_multi(self, eval_context=None):
        template = self.whatsapp_crm_template_id
        records = (eval_context or {}).get("records") or (eval_context or {}).get("record")
        if not template or not records or self._is_recompute():
            return False
        composer = self.env["whatsapp.crm.composer"].create({
            "res_model": records._name,
            "res_ids": records.ids,
            "account_id": template.account_id.id,
            "use_template": True,
            "template_id": template.id,
        })
        for record in records:
            try:
                with self.env.cr.savepoint():
                    composer._send_to(composer._conversation_for(record), record)
            except UserError as error:
                # One customer without a valid number must not stop the others.
                if hasattr(record, "_message_log"):
                    record._message_log(body=self.env._(
                        "WhatsApp not sent by %(action)s: %(reason)s",
                        action=self.name, reason=error.args[0],
                    ))
                _logger.info("WhatsApp automation %s skipped %s: %s", self.id, record, error)
        return False
