from psycopg2.extras import execute_values

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
    recipient_user_id = fields.Char(string="Recipient BSUID")
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
    def _record_many(self, entries):
        """Insert the statuses of ``entries`` ((MessageStatus item, account)) in one
        statement, skipping those already known (and repeats within the batch).

        Returns the inserted rows as dicts (id, account_id, wamid, status, timestamp,
        error_code, error_message, callback_data), in the order given.
        """
        rows = []
        for item, account in entries:
            error = item.errors[0] if item.errors else None
            pricing = item.pricing
            error_text = None
            if error:
                error_text = " — ".join(
                    part for part in (error.title, error.details or error.message) if part
                )
            rows.append((
                account.id, account.company_id.id, item.wamid, item.status,
                item.timestamp.replace(tzinfo=None) if item.timestamp else None,
                item.recipient_id, item.recipient_user_id, error.code if error else None,
                error_text, pricing.category if pricing else None,
                pricing.type if pricing else None, bool(pricing and pricing.billable),
                item.biz_opaque_callback_data, self.env.uid,
            ))
        if not rows:
            return []
        # One lock order for every worker: inserts of the same keys never deadlock.
        rows.sort(key=lambda row: (row[0], row[2], row[3]))
        inserted = execute_values(
            self.env.cr._obj,
            """
            INSERT INTO whatsapp_crm_message_status
                (account_id, company_id, wamid, status, timestamp, recipient_id,
                 recipient_user_id, error_code, error_message, pricing_category, pricing_type,
                 billable, callback_data, create_uid, write_uid, create_date, write_date)
            SELECT v.account_id, v.company_id, v.wamid, v.status,
                   COALESCE(v.timestamp, now() at time zone 'UTC'), v.recipient_id,
                   v.recipient_user_id, v.error_code, v.error_message, v.pricing_category,
                   v.pricing_type, v.billable, v.callback_data, v.uid, v.uid,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(account_id, company_id, wamid, status, timestamp,
                                    recipient_id, recipient_user_id, error_code,
                                    error_message, pricing_category, pricing_type, billable,
                                    callback_data, uid)
            ON CONFLICT (account_id, wamid, status) DO NOTHING
            RETURNING id, account_id, wamid, status, timestamp, error_code, error_message,
                      callback_data
            """,
            rows,
            template="(%s, %s, %s, %s, %s::timestamp, %s, %s, %s::int4, %s, %s, %s, %s, %s,"
                     " %s)",
            page_size=len(rows),
            fetch=True,
        )
        columns = ("id", "account_id", "wamid", "status", "timestamp", "error_code",
                   "error_message", "callback_data")
        return [dict(zip(columns, row, strict=True)) for row in inserted]
