import logging

from odoo import api, fields, models, modules

from ..lib import errors as api_errors

_logger = logging.getLogger(__name__)


class WhatsappCrmAccount(models.Model):
    _inherit = "whatsapp.crm.account"

    mark_read_on_open = fields.Boolean(
        string="Send Read Receipts",
        default=True,
        help="When a salesperson opens a conversation, the customer sees blue ticks.",
    )


class WhatsappCrmMessage(models.Model):
    _inherit = "whatsapp.crm.message"

    marked_read = fields.Boolean(
        readonly=True, help="Meta was told that the business read this inbound message."
    )


class WhatsappCrmConversation(models.Model):
    _inherit = "whatsapp.crm.conversation"

    @api.readonly
    def web_read(self, specification):
        result = super().web_read(specification)
        # Opening the form is a read-only request: Meta is told after it commits.
        if (
            len(self) == 1
            and not modules.module.current_test
            and self.account_id.mark_read_on_open
            and self._unread_inbound()
        ):
            self.env.cr.postcommit.add(self._mark_read_after_commit)
        return result

    def _unread_inbound(self):
        return self.env["whatsapp.crm.message"].search(
            [("conversation_id", "in", self.ids), ("direction", "=", "in"),
             ("marked_read", "=", False), ("wamid", "!=", False)],
            order="timestamp desc, id desc",
        )

    def _mark_read_after_commit(self):
        registry = modules.registry.Registry(self.env.cr.dbname)
        with registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, {})
            env[self._name].browse(self.ids)._mark_inbound_read()

    def _mark_inbound_read(self):
        """Mark the newest inbound message read on Meta, which covers the earlier ones."""
        for conversation in self:
            unread = conversation._unread_inbound()
            if not unread:
                continue
            try:
                conversation.account_id._get_client().mark_as_read(unread[0].wamid)
            except api_errors.CloudApiError as error:
                _logger.warning("WhatsApp read receipt for %s failed: %s", conversation.id, error)
                continue
            unread.sudo().marked_read = True
