from odoo import api, fields, models


class WhatsappCrmMessageStatus(models.Model):
    """Every delivery status Meta reported, once.

    It deduplicates status webhooks, keeps the history of a message, and holds
    statuses whose message is not known (yet) so that they can be reconciled.
    """

    _name = "whatsapp.crm.message.status"
    _description = "WhatsApp Message Status"
    _order = "timestamp desc, id desc"
    _rec_name = "status"

    account_id = fields.Many2one(
        "whatsapp.crm.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    message_id = fields.Many2one(
        "whatsapp.crm.message", index="btree_not_null", ondelete="cascade"
    )
    wamid = fields.Char(required=True)
    status = fields.Char(required=True)
    timestamp = fields.Datetime()
    recipient_id = fields.Char()
    # Sent to a BSUID, a status may carry only this (Meta, April 2026).
    recipient_user_id = fields.Char()
    error_code = fields.Integer()
    error_message = fields.Text()
    pricing_category = fields.Char()
    pricing_type = fields.Char()
    billable = fields.Boolean()
    callback_data = fields.Char()

    _status_uniq = models.Constraint(
        "UNIQUE(account_id, wamid, status)", "A status is recorded once per message."
    )
    _unreconciled_idx = models.Index("(account_id, wamid) WHERE message_id IS NULL")

    @api.model
    def _record(self, item, account):
        """Insert the status unless already known; returns the new record or nothing."""
        error = item.errors[0] if item.errors else None
        pricing = item.pricing
        timestamp = item.timestamp.replace(tzinfo=None) if item.timestamp else None
        error_text = None
        if error:
            error_text = " — ".join(
                part for part in (error.title, error.details or error.message) if part
            )
        self.env.cr.execute(
            """
            INSERT INTO whatsapp_crm_message_status
                (account_id, company_id, wamid, status, timestamp, recipient_id,
                 recipient_user_id, error_code, error_message, pricing_category, pricing_type,
                 billable, callback_data, create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, COALESCE(%s, now() at time zone 'UTC'), %s, %s, %s, %s,
                    %s, %s, %s, %s, %s, now() at time zone 'UTC', %s,
                    now() at time zone 'UTC')
            ON CONFLICT (account_id, wamid, status) DO NOTHING
            RETURNING id
            """,
            [
                account.id,
                account.company_id.id,
                item.wamid,
                item.status,
                timestamp,
                item.recipient_id,
                item.recipient_user_id,
                error.code if error else None,
                error_text,
                pricing.category if pricing else None,
                pricing.type if pricing else None,
                bool(pricing and pricing.billable),
                item.biz_opaque_callback_data,
                self.env.uid,
                self.env.uid,
            ],
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()
