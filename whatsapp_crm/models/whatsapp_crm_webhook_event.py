import hashlib
import logging
import traceback
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models, modules
from odoo.exceptions import UserError

from ..lib import webhook

_logger = logging.getLogger(__name__)

# Errors caused by another worker handling the same customer or message at the
# same time: the transaction is replayed, and then sees the other's rows.
CONCURRENCY_ERRORS = (
    pg_errors.UniqueViolation,
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)
CONCURRENCY_ATTEMPTS = 4
MAX_ATTEMPTS = 6
# Meta batches at most 3 MB; anything far larger is not Meta.
MAX_BODY_BYTES = 8 * 1024 * 1024
PROCESSING_PARAM = "whatsapp_crm.webhook_processing"


class WhatsappCrmWebhookEvent(models.Model):
    _name = "whatsapp.crm.webhook.event"
    _description = "WhatsApp Webhook Event"
    _order = "id desc"
    _rec_name = "payload_hash"

    account_id = fields.Many2one(
        "whatsapp.crm.account", readonly=True, index=True, ondelete="set null"
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    payload = fields.Text(readonly=True, help="The request body exactly as Meta sent it.")
    payload_hash = fields.Char(readonly=True, required=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("done", "Processed"),
            ("error", "Error"),
            ("ignored", "Ignored"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    processed_at = fields.Datetime(readonly=True)
    summary = fields.Char(readonly=True)

    _payload_hash_uniq = models.Constraint(
        "UNIQUE(payload_hash)", "This webhook payload was already received."
    )
    _state_idx = models.Index("(state, id) WHERE state IN ('pending', 'error')")

    # ------------------------------------------------------------------
    # Reception (request path: verify, store, commit; nothing more)
    # ------------------------------------------------------------------

    @api.model
    def _receive(self, raw_body, signature_header):
        """Verify and store one POST. Returns (http_status, event or None)."""
        accounts = self._candidate_accounts(raw_body)
        if not accounts:
            _logger.warning("WhatsApp webhook for an unknown phone number or WABA refused")
            return 403, None
        account = accounts._signature_matches(raw_body, signature_header)
        if not account:
            _logger.warning(
                "WhatsApp webhook refused: missing or invalid X-Hub-Signature-256 "
                "(%d bytes, %d candidate accounts)",
                len(raw_body),
                len(accounts),
            )
            return 403, None
        event = self._store(raw_body, account)
        return 200, event

    @api.model
    def _candidate_accounts(self, raw_body):
        Account = self.env["whatsapp.crm.account"].sudo()
        phone_ids, waba_ids = webhook.routing_ids_from_raw(raw_body)
        accounts = Account.browse()
        if phone_ids:
            accounts = Account.search([("phone_number_id", "in", list(phone_ids))])
        if not accounts and waba_ids:
            accounts = Account.search([("waba_id", "in", list(waba_ids))])
        if not accounts and not phone_ids and not waba_ids:
            # Unreadable body: only a valid signature tells whether Meta sent it.
            accounts = Account.search([("app_secret_encrypted", "!=", False)])
        return accounts

    @api.model
    def _store(self, raw_body, account):
        """Insert the event once; a duplicate body returns an empty recordset."""
        payload_hash = hashlib.sha256(raw_body).hexdigest()
        try:
            with self.env.cr.savepoint(flush=False):
                event_id = self._insert_event(raw_body, payload_hash, account)
        except (pg_errors.SerializationFailure, pg_errors.UniqueViolation):
            # The same body, committed by another worker after our snapshot began.
            return self.browse()
        return self.browse(event_id) if event_id else self.browse()

    @api.model
    def _insert_event(self, raw_body, payload_hash, account):
        self.env.cr.execute(
            """
            INSERT INTO whatsapp_crm_webhook_event
                (payload, payload_hash, account_id, company_id, state, attempts,
                 received_at, create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, 'pending', 0, now() at time zone 'UTC',
                    %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
            ON CONFLICT (payload_hash) DO NOTHING
            RETURNING id
            """,
            [
                raw_body.decode("utf-8", errors="replace"),
                payload_hash,
                account.id,
                account.company_id.id,
                self.env.uid,
                self.env.uid,
            ],
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    def _dispatch(self):
        """Process now, or wake the cron worker so that Meta gets its 200 at once.

        `deferred` (the default) keeps the request path to verify, store, commit
        and answer, as Meta asks; `inline` processes in the request itself.
        """
        mode = self.env["ir.config_parameter"].sudo().get_param(PROCESSING_PARAM, "deferred")
        if mode == "inline":
            try:
                self._process_with_retries()
            except Exception:
                self.env.cr.rollback()
                _logger.exception("WhatsApp events %s left for the retry job", self.ids)
            return
        self.env.ref("whatsapp_crm.ir_cron_process_webhook_events").sudo()._trigger()

    def _process_with_retries(self, auto_commit=None):
        """Process each event in its own transaction, replaying on concurrency errors."""
        if auto_commit is None:
            auto_commit = not modules.module.current_test
        for event_id in self.ids:
            event = self.browse(event_id)
            lock_keys = event._customer_lock_keys() if auto_commit else []
            event._lock_customers(lock_keys)
            try:
                for attempt in range(1, CONCURRENCY_ATTEMPTS + 1):
                    try:
                        event._process_locked()
                        if auto_commit:
                            # One transaction per event: a failure never undoes another.
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                        break
                    except CONCURRENCY_ERRORS as error:
                        if not auto_commit:
                            raise
                        self.env.cr.rollback()
                        _logger.info(
                            "WhatsApp event %s: concurrent update (%s), attempt %d",
                            event_id,
                            type(error).__name__,
                            attempt,
                        )
            finally:
                event._unlock_customers(lock_keys)

    def _customer_lock_keys(self):
        """Advisory lock keys of the customers who wrote in this event, sorted."""
        self.ensure_one()
        try:
            payload = webhook.parse_payload(self.payload.encode())
        except webhook.MalformedPayload:
            return []
        keys = set()
        for item in payload.iter_events():
            sender = getattr(item, "from_wa_id", None) or getattr(item, "from_user_id", None)
            if isinstance(item, webhook.InboundMessage) and sender:
                digest = hashlib.sha256(f"whatsapp_crm:{item.phone_number_id}:{sender}".encode())
                keys.add(int.from_bytes(digest.digest()[:8], "big", signed=True))
        return sorted(keys)

    def _lock_customers(self, keys):
        """Serialise workers on the same customers before the processing snapshot.

        Session-level locks outlive the commit that follows, so the processing
        transaction starts after the other worker committed and sees its rows:
        no duplicate contact, and no serialization failure to replay.
        """
        if not keys:
            return
        for key in keys:
            self.env.cr.execute("SELECT pg_advisory_lock(%s)", [key])
        # Ends the transaction whose snapshot predates the lock.
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _unlock_customers(self, keys):
        for key in reversed(keys):
            self.env.cr.execute("SELECT pg_advisory_unlock(%s)", [key])

    def _process_locked(self):
        self.ensure_one()
        self.env.cr.execute(
            """
            SELECT id FROM whatsapp_crm_webhook_event
             WHERE id = %s AND state IN ('pending', 'error')
               FOR UPDATE SKIP LOCKED
            """,
            [self.id],
        )
        if not self.env.cr.fetchone():
            return  # done already, or another worker has it right now
        self.invalidate_recordset()
        self._process_payload()

    def _process_payload(self):
        self.ensure_one()
        try:
            payload = webhook.parse_payload(self.payload.encode())
        except webhook.MalformedPayload as error:
            self._finish("ignored", error=self.env._("Malformed payload: %s", error))
            return
        Message = self.env["whatsapp.crm.message"].sudo()
        counts = {"handled": 0, "skipped": 0, "failed": 0}
        errors = []
        for item in payload.iter_events():
            try:
                with self.env.cr.savepoint():
                    handled = Message._process_webhook_item(item, self.account_id)
                counts["handled" if handled else "skipped"] += 1
            except CONCURRENCY_ERRORS:
                raise
            except Exception:  # noqa: BLE001 - one bad item must not lose the others
                counts["failed"] += 1
                errors.append(traceback.format_exc())
                _logger.exception("WhatsApp event %s: an item failed", self.id)
        summary = self.env._(
            "%(handled)s handled, %(skipped)s skipped, %(failed)s failed", **counts
        )
        if errors:
            self._finish("error", error="\n".join(errors), summary=summary)
        elif not counts["handled"] and counts["skipped"]:
            self._finish("ignored", summary=summary)
        else:
            self._finish("done", summary=summary)

    def _finish(self, state, error=False, summary=False):
        self.write(
            {
                "state": state,
                "error": error,
                "summary": summary,
                "attempts": self.attempts + 1,
                "processed_at": fields.Datetime.now(),
            }
        )

    @api.model
    def _cron_process_pending(self, batch_size=100):
        """Process new events in arrival order, then retry failed ones with backoff."""
        events = self.search([("state", "=", "pending")], order="id", limit=batch_size)
        if len(events) < batch_size:
            events |= self._due_for_retry(batch_size - len(events))
        for event in events:
            event._process_with_retries()
            if modules.module.current_test:
                continue
            # Stay inside the cron's time budget; the runner calls again while
            # events remain, instead of the worker being killed mid-batch.
            remaining = self.search_count([("state", "=", "pending")])
            if self.env["ir.cron"]._commit_progress(1, remaining=remaining) <= 0:
                break

    @api.model
    def _due_for_retry(self, limit):
        now = fields.Datetime.now()
        failed = self.search(
            [("state", "=", "error"), ("attempts", "<", MAX_ATTEMPTS)], order="id", limit=limit
        )
        return failed.filtered(
            lambda event: not event.processed_at
            or event.processed_at < now - timedelta(minutes=2**event.attempts)
        )

    def action_replay(self):
        """A manager's replay: process again, whatever the attempts so far."""
        if not self.env.user.has_group("whatsapp_crm.group_whatsapp_crm_manager"):
            raise UserError(self.env._("Only WhatsApp managers can replay webhook events."))
        replayable = self.filtered(lambda event: event.state in ("error", "ignored", "pending"))
        replayable.write({"state": "pending"})
        for event in replayable:
            event._process_payload()
        return True
