import hashlib
import logging
import traceback
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models, modules
from odoo.exceptions import UserError

from ..lib import webhook
from ..lib.retry import EVENT_POLICY

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
    next_attempt_at = fields.Datetime(
        readonly=True, help="When the retry job processes this failed event again."
    )
    summary = fields.Char(readonly=True)

    _payload_hash_uniq = models.Constraint(
        "UNIQUE(payload_hash)", "This webhook payload was already received."
    )
    _state_idx = models.Index("(state, id) WHERE state IN ('pending', 'error')")
    _retry_idx = models.Index("(next_attempt_at, id) WHERE state = 'error'")

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
        """Process each event in its own transaction, replaying on concurrency errors.

        The media of the event's messages is downloaded afterwards, once the
        customers' locks are released, each file in its own transaction.
        """
        if auto_commit is None:
            auto_commit = not modules.module.current_test
        Message = self.env["whatsapp.crm.message"].sudo()
        for event_id in self.ids:
            event = self.browse(event_id)
            lock_keys, media_wamids = event._customer_lock_keys_and_media()
            if not auto_commit:
                lock_keys = []
            event._lock_customers(lock_keys)
            try:
                event._process_replaying(auto_commit)
            finally:
                event._unlock_customers(lock_keys)
            if media_wamids:
                Message.search([
                    ("account_id", "=", event.account_id.id),
                    ("wamid", "in", media_wamids),
                    ("media_state", "=", "pending"),
                ])._fetch_media()

    def _process_replaying(self, auto_commit):
        self.ensure_one()
        for attempt in range(1, CONCURRENCY_ATTEMPTS + 1):
            try:
                self._process_locked()
                if auto_commit:
                    # One transaction per event: a failure never undoes another.
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                return
            except CONCURRENCY_ERRORS as error:
                if not auto_commit:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
                _logger.info(
                    "WhatsApp event %s: concurrent update (%s), attempt %d",
                    self.id, type(error).__name__, attempt,
                )
                last_error = error
        # Still conflicting: the attempt counts, and the retry job takes it later.
        self._finish("error", error=self.env._(
            "Concurrent updates kept conflicting: %(error)s", error=last_error))
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _customer_lock_keys_and_media(self):
        """Advisory lock keys of the customers who wrote in this event (sorted), and the
        ids of their messages that carry media."""
        self.ensure_one()
        try:
            payload = webhook.parse_payload(self.payload.encode())
        except webhook.MalformedPayload:
            return [], []
        keys, media_wamids = set(), []
        for item in payload.iter_events():
            if not isinstance(item, webhook.InboundMessage):
                continue
            sender = item.sender_key
            if sender:
                digest = hashlib.sha256(f"whatsapp_crm:{item.phone_number_id}:{sender}".encode())
                keys.add(int.from_bytes(digest.digest()[:8], "big", signed=True))
            if item.media and item.media.id and item.wamid:
                media_wamids.append(item.wamid)
        return sorted(keys), media_wamids

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
        counts = {"handled": 0, "skipped": 0, "failed": 0}
        errors = []
        for item in payload.iter_events():
            try:
                with self.env.cr.savepoint():
                    handled = self._process_item(item)
                counts["handled" if handled else "skipped"] += 1
            except CONCURRENCY_ERRORS:
                raise
            except Exception as error:  # noqa: BLE001 - one bad item must not lose the others
                counts["failed"] += 1
                # The traceback is kept on the event for the managers, not in the log.
                errors.append(traceback.format_exc())
                _logger.warning("WhatsApp event %s: an item failed: %s: %s",
                                self.id, type(error).__name__, error)
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
        attempts = self.attempts + 1
        retry_at = False
        if state == "error" and EVENT_POLICY.can_retry(attempts):
            retry_at = fields.Datetime.now() + timedelta(seconds=EVENT_POLICY.delay(attempts))
        self.write(
            {
                "state": state,
                "error": error,
                "summary": summary,
                "attempts": attempts,
                "processed_at": fields.Datetime.now(),
                "next_attempt_at": retry_at,
            }
        )
        if retry_at:
            self.env.ref("whatsapp_crm.ir_cron_process_webhook_events").sudo() \
                ._whatsapp_crm_trigger_at(retry_at)

    # ------------------------------------------------------------------
    # Dispatch of one webhook item to the model it belongs to
    # ------------------------------------------------------------------

    def _process_item(self, item):
        """Apply one parsed webhook item. Returns False when it was not for us."""
        self.ensure_one()
        account = self._account_for_item(item)
        if not account:
            _logger.info(
                "WhatsApp item for phone number id %s skipped: not ours",
                getattr(item, "phone_number_id", None),
            )
            return False
        env = self.env
        if isinstance(item, webhook.InboundMessage):
            return env["whatsapp.crm.message"].sudo()._process_inbound(item, account)
        if isinstance(item, webhook.MessageStatus):
            return env["whatsapp.crm.message"].sudo()._process_status(item, account)
        if isinstance(item, webhook.UserPreference):
            return env["res.partner"].sudo()._whatsapp_process_user_preference(item, account)
        if isinstance(item, (webhook.AccountUpdate, webhook.PhoneNumberQualityUpdate)):
            return account.sudo()._process_account_update(item)
        if isinstance(item, (webhook.TemplateStatusUpdate, webhook.TemplateQualityUpdate,
                             webhook.TemplateCategoryUpdate)):
            return env["whatsapp.crm.template"].sudo()._process_meta_update(item, account)
        _logger.info("WhatsApp webhook item of an unhandled kind: %s", type(item).__name__)
        return False

    def _account_for_item(self, item):
        """The account an item is for, if the account that signed the event may speak for it."""
        verified_account = self.account_id
        phone_number_id = getattr(item, "phone_number_id", None)
        if not phone_number_id:
            # Account-level fields (templates, quality) carry only the WABA id.
            return verified_account if item.waba_id in (None, verified_account.waba_id) else None
        if phone_number_id == verified_account.phone_number_id:
            return verified_account
        account = self.env["whatsapp.crm.account"].sudo().search(
            [("phone_number_id", "=", phone_number_id)], limit=1
        )
        # Same WABA means the same Meta app signed it; anything else is not verified.
        if account and account.waba_id == verified_account.waba_id:
            return account
        return None

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
        # Events failed before next_attempt_at existed have none: due at once.
        return self.search(
            [("state", "=", "error"), "|", ("next_attempt_at", "<=", fields.Datetime.now()),
             "&", ("next_attempt_at", "=", False),
             ("attempts", "<", EVENT_POLICY.max_attempts)],
            order="next_attempt_at, id", limit=limit,
        )

    def action_replay(self):
        """A manager's replay: process again, whatever the attempts so far."""
        if not self.env.user.has_group("whatsapp_crm.group_whatsapp_crm_manager"):
            raise UserError(self.env._("Only WhatsApp managers can replay webhook events."))
        replayable = self.filtered(lambda event: event.state in ("error", "ignored", "pending"))
        replayable.write({"state": "pending", "next_attempt_at": False})
        for event in replayable:
            event._process_payload()
        return True
