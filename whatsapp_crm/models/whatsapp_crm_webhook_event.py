import hashlib
import logging
import time
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
LANE_XMLID = "whatsapp_crm.ir_cron_process_webhook_events"
# A lane that finds more events pending than this wakes the other lanes.
LANE_BACKLOG = 50
LANE_BACKLOG_CHECK_SECONDS = 2.0
# Claims of customer-message events between lanes: session advisory locks (class, id),
# a key space apart from the customers' single-key locks.
CLAIM_LOCK_CLASS = 0x5741
# A status batch aims at about a second, so that a customer's message that arrives
# meanwhile waits no longer: its size follows the rate measured in this process.
STATUS_BATCH_SECONDS = 1.0
STATUS_BATCH_BOUNDS = (20, 2000)
# A trigger of the lane %s waiting to be run. A running job deletes its triggers when it
# starts and commits that delete only when it ends: such a row (its xmax set) does not
# count, or a request arriving at the end of a run would find it and wake nobody.
# Reading xmax takes no lock, so the request stays a single write.
WAITING_TRIGGER = """EXISTS (SELECT 1 FROM ir_cron_trigger
                              WHERE cron_id = %s
                                AND call_at <= statement_timestamp() at time zone 'UTC'
                                AND xmax::text = '0')"""


class WhatsappCrmWebhookEvent(models.Model):
    _name = "whatsapp.crm.webhook.event"
    _description = "WhatsApp Webhook Event"
    _order = "id desc"
    _rec_name = "payload_hash"

    account_id = fields.Many2one(
        "whatsapp.crm.account", readonly=True, index=True, ondelete="set null"
    )
    # Few indexes: each one is written by every webhook POST (the request path).
    company_id = fields.Many2one("res.company", readonly=True)
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
    )
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    processed_at = fields.Datetime(readonly=True)
    next_attempt_at = fields.Datetime(
        readonly=True, help="When the retry job processes this failed event again."
    )
    summary = fields.Char(readonly=True)
    kind = fields.Selection(
        [
            (webhook.KIND_MESSAGE, "Customer Messages"),
            (webhook.KIND_STATUS, "Statuses"),
            (webhook.KIND_OTHER, "Other"),
        ],
        default=webhook.KIND_OTHER,
        required=True,
        readonly=True,
        help="Customer messages are processed first, one event at a time; statuses in "
        "batches.",
    )

    _payload_hash_uniq = models.Constraint(
        "UNIQUE(payload_hash)", "This webhook payload was already received."
    )
    _retry_idx = models.Index("(next_attempt_at, id) WHERE state = 'error'")
    _pending_kind_idx = models.Index("(kind, id) WHERE state = 'pending'")

    # Per process: the status batch size that took about STATUS_BATCH_SECONDS.
    _status_batch_size = 200

    # ------------------------------------------------------------------
    # Reception (request path: verify, store, commit; nothing more)
    # ------------------------------------------------------------------

    @api.model
    def _receive(self, raw_body, signature_header):
        """Verify and store one POST. Returns (http_status, event or None).

        The account and its decrypted app secret come from a per-process cache
        (account._webhook_routes): the request path parses the body once, checks the
        signature, inserts the event and nothing more.
        """
        phone_ids, waba_ids, kind = webhook.routing_from_raw(raw_body)
        Account = self.env["whatsapp.crm.account"].sudo()
        if phone_ids or waba_ids:
            routes = Account._webhook_routes(tuple(sorted(phone_ids)), tuple(sorted(waba_ids)))
            account = next((Account.browse(account_id) for account_id, secret in routes
                            if secret and webhook.verify_signature(secret, raw_body,
                                                                   signature_header)), None)
        else:
            # Unreadable body: only a valid signature tells whether Meta sent it.
            routes = Account.search([("app_secret_encrypted", "!=", False)])
            account = routes._signature_matches(raw_body, signature_header) or None
        if not routes:
            _logger.warning("WhatsApp webhook for an unknown phone number or WABA refused")
            return 403, None
        if account is None:
            _logger.warning(
                "WhatsApp webhook refused: missing or invalid X-Hub-Signature-256 "
                "(%d bytes, %d candidate accounts)",
                len(raw_body),
                len(routes),
            )
            return 403, None
        deferred = self._processing_mode() == "deferred"
        event, trigger_waiting = self._store(raw_body, account, kind, wake_lane=deferred)
        if event and deferred and not trigger_waiting:
            # In the same transaction as the event: one commit per request.
            self._first_lane()._trigger()
        return 200, event

    @api.model
    def _processing_mode(self):
        return self.env["ir.config_parameter"].sudo().get_param(PROCESSING_PARAM, "deferred")

    @api.model
    def _store(self, raw_body, account, kind=webhook.KIND_OTHER, wake_lane=False):
        """Insert the event once: (event, a trigger of the first lane is waiting).
        A duplicate body gives an empty recordset.

        ON CONFLICT skips a body already stored. The same body committed by another
        worker after this transaction's snapshot began raises a serialization failure
        instead: Odoo replays the request, which then finds it (no savepoint here, it
        would cost two round trips on every POST; so does the trigger check, made in
        the same statement)."""
        self.env.cr.execute(
            f"""
            WITH event AS (
                INSERT INTO whatsapp_crm_webhook_event
                    (payload, payload_hash, account_id, company_id, kind, state, attempts,
                     received_at, create_uid, create_date, write_uid, write_date)
                SELECT %s, %s, a.id, a.company_id, %s, 'pending', 0,
                       now() at time zone 'UTC', %s, now() at time zone 'UTC', %s,
                       now() at time zone 'UTC'
                  FROM whatsapp_crm_account a WHERE a.id = %s
                ON CONFLICT (payload_hash) DO NOTHING
                RETURNING id
            )
            SELECT (SELECT id FROM event), {WAITING_TRIGGER if wake_lane else "TRUE"}
            """,
            [
                raw_body.decode("utf-8", errors="replace"),
                hashlib.sha256(raw_body).hexdigest(),
                kind,
                self.env.uid,
                self.env.uid,
                account.id,
                *([self._first_lane().id] if wake_lane else []),
            ],
            log_exceptions=False,
        )
        event_id, waiting = self.env.cr.fetchone()
        return self.browse(event_id) if event_id else self.browse(), waiting

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    def _dispatch(self):
        """After the event is committed: process it now when the processing mode is
        `inline` (simpler for tiny volumes, but Meta waits longer for its 200). In the
        default `deferred` mode, _receive has woken the processing lanes already."""
        if self._processing_mode() != "inline":
            return
        try:
            self._process_with_retries()
        except Exception:
            self.env.cr.rollback()
            _logger.exception("WhatsApp events %s left for the retry job", self.ids)

    @api.model
    def _wake_lanes(self, every_lane=False):
        """Trigger the first processing lane (every lane for a backlog), unless a trigger
        is already waiting: one row and one NOTIFY per wake-up, not per request.

        A running job deletes its triggers when it starts and commits that delete only
        when it ends: such a row does not count (WAITING_TRIGGER)."""
        lanes = self._lanes() if every_lane else self._first_lane()
        running = self.env.context.get("cron_id")  # a lane does not wake itself
        for lane in lanes.filtered(lambda lane: lane.id != running):
            self.env.cr.execute(f"SELECT {WAITING_TRIGGER}", [lane.id])
            if not self.env.cr.fetchone()[0]:
                lane._trigger()

    @api.model
    def _first_lane(self):
        # The xmlid's id is cached; env.ref would check the record exists on each request.
        return self.env["ir.cron"].sudo().browse(
            self.env["ir.model.data"]._xmlid_to_res_id(LANE_XMLID))

    @api.model
    def _lanes(self):
        return self.env["ir.cron"].sudo().search([
            ("model_id.model", "=", self._name),
            ("code", "=like", "%_cron_process_pending()%"),
        ])

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
    def _cron_process_pending(self):
        """One processing lane: a customer's message first, each event in its own
        transaction; when none is waiting, a batch of statuses (about a second of work);
        then failed events that are due again. It goes on while the cron's time
        budget lasts. Lanes on other cron workers and servers claim other events: a
        message event by a session advisory lock, status events by FOR UPDATE SKIP LOCKED.
        """
        testing = modules.module.current_test
        Cron = self.env["ir.cron"]
        next_backlog_check = 0.0
        while True:
            if not testing and time.monotonic() >= next_backlog_check:
                # A backlog wakes the other lanes, on this server's other cron workers or
                # on other servers; checked again every few seconds of a long run.
                if self._pending_count() > LANE_BACKLOG:
                    self._wake_lanes(every_lane=True)
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                next_backlog_check = time.monotonic() + LANE_BACKLOG_CHECK_SECONDS
            done = (self._process_next_event() or self._process_status_batch()
                    or self._process_due_retry())
            if not done:
                return
            if testing:
                continue
            if Cron._commit_progress(done) <= 0:
                # Out of time: the runner calls the lane again while events remain.
                Cron._commit_progress(0, remaining=self._pending_count())
                return

    @api.model
    def _pending_count(self):
        self.env.cr.execute("SELECT count(*) FROM whatsapp_crm_webhook_event "
                            "WHERE state = 'pending'")
        return self.env.cr.fetchone()[0]

    @api.model
    def _process_next_event(self):
        """The oldest pending event other than statuses that no lane holds: claimed by a
        session advisory lock, processed, released. Returns how many were processed."""
        self.env.cr.execute(
            """
            SELECT id FROM whatsapp_crm_webhook_event
             WHERE state = 'pending' AND kind <> %s ORDER BY id LIMIT 20
            """,
            [webhook.KIND_STATUS],
        )
        for (event_id,) in self.env.cr.fetchall():
            self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                [CLAIM_LOCK_CLASS, event_id])
            if not self.env.cr.fetchone()[0]:
                continue  # another lane has it
            try:
                # Done meanwhile? _process_locked checks again in a fresh snapshot.
                self.browse(event_id)._process_with_retries()
            finally:
                self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)",
                                    [CLAIM_LOCK_CLASS, event_id])
            return 1
        return 0

    @api.model
    def _process_due_retry(self):
        event = self._due_for_retry(limit=1)
        if event:
            event._process_with_retries()
        return len(event)

    @api.model
    def _process_status_batch(self):
        """Claim pending status events (FOR UPDATE SKIP LOCKED) and apply all their
        statuses at once (message._apply_status_batch). A batch that keeps conflicting
        with another lane, or fails, is processed again one event at a time, so that an
        error stays on its own event. Returns how many events were processed."""
        testing = modules.module.current_test
        cls = type(self)
        for attempt in range(1, CONCURRENCY_ATTEMPTS + 1):
            started = time.monotonic()
            self.env.cr.execute(
                """
                SELECT id FROM whatsapp_crm_webhook_event
                 WHERE state = 'pending' AND kind = %s
                 ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
                """,
                [webhook.KIND_STATUS, cls._status_batch_size],
            )
            events = self.browse(row[0] for row in self.env.cr.fetchall())
            if not events:
                return 0
            try:
                with self.env.cr.savepoint():
                    others = events._apply_status_events()
            except CONCURRENCY_ERRORS as error:
                if testing:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
                _logger.info("WhatsApp status batch of %d events: %s, attempt %d",
                             len(events), type(error).__name__, attempt)
                continue
            except Exception:
                _logger.exception("WhatsApp status batch of %d events failed; processing "
                                  "them one by one", len(events))
                others = events
            else:
                elapsed = max(time.monotonic() - started, 0.01)
                wanted = cls._status_batch_size * STATUS_BATCH_SECONDS / elapsed
                low, high = STATUS_BATCH_BOUNDS
                cls._status_batch_size = int(min(max((cls._status_batch_size + wanted) / 2,
                                                     low), high))
            if not testing:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            for event in others:
                event._process_with_retries()
            return len(events)
        # Still conflicting: one at a time, each with its own replays.
        self.env.cr.execute(
            """
            SELECT id FROM whatsapp_crm_webhook_event
             WHERE state = 'pending' AND kind = %s ORDER BY id LIMIT 20
            """,
            [webhook.KIND_STATUS],
        )
        events = self.browse(row[0] for row in self.env.cr.fetchall())
        for event in events:
            event._process_with_retries()
        return len(events)

    def _apply_status_events(self):
        """Apply the statuses of these claimed events in one batch and finish them.
        Returns the events that hold something else than statuses, left pending for
        the one-by-one path."""
        entries, counts, others = [], {}, self.browse()
        malformed = {}
        for event in self:
            try:
                items = list(webhook.parse_payload(event.payload.encode()).iter_events())
            except webhook.MalformedPayload as error:
                malformed[event] = error
                continue
            if not all(isinstance(item, webhook.MessageStatus) for item in items):
                others |= event
                continue
            handled = 0
            for item in items:
                account = event._account_for_item(item)
                if account and item.wamid and item.status:
                    entries.append((item, account))
                    handled += 1
            counts[event] = (handled, len(items) - handled)
        self.env["whatsapp.crm.message"].sudo()._apply_status_batch(entries)
        for event, error in malformed.items():
            event._finish("ignored", error=self.env._("Malformed payload: %s", error))
        finished = {}
        for event, (handled, skipped) in counts.items():
            state = "ignored" if skipped and not handled else "done"
            summary = self.env._("%(handled)s handled, %(skipped)s skipped, %(failed)s failed",
                                 handled=handled, skipped=skipped, failed=0)
            finished.setdefault((state, summary), []).append(event.id)
        for (state, summary), ids in finished.items():
            self.env.cr.execute(
                """
                UPDATE whatsapp_crm_webhook_event
                   SET state = %s, summary = %s, error = NULL, next_attempt_at = NULL,
                       attempts = attempts + 1, processed_at = now() at time zone 'UTC',
                       write_date = now() at time zone 'UTC', write_uid = %s
                 WHERE id = ANY(%s)
                """,
                [state, summary, self.env.uid, ids],
            )
        self.invalidate_recordset()
        return others

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
