"""Shared state, authentication, the send flow and status webhooks."""

from __future__ import annotations

import base64
import itertools
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .clock import Scheduler, SimClock
from .config import Account, SimulatorConfig
from .errors import GraphError, auth_error, not_found, status_error
from .identity import NUMBER_SHARED_SECONDS, contact_block, new_bsuid, number_visible
from .media import MediaStore, mime_family
from .templates import TemplateStore, check_send_parameters
from .validation import brazil_variants, validate_send, wa_digits
from .webhooks import RetryPolicy, WebhookSender, envelope, messages_value

WINDOW_SECONDS = 24 * 3600
WINDOW_CLOSED_DETAILS = ("Message failed to send because more than 24 hours have passed "
                         "since the customer last replied to this number.")
MEDIA_FAMILY_FOR_TYPE = {"image": "image", "audio": "audio", "video": "video",
                         "sticker": "sticker"}


class SimulatorCore:
    def __init__(self, config: SimulatorConfig | None = None,
                 log: Callable[[str], None] | None = None):
        self.config = config or SimulatorConfig()
        if not self.config.accounts:
            raise ValueError("the simulator needs at least one account")
        self._log_fn = log if log is not None else (print if self.config.verbose else None)
        self._lock = threading.RLock()
        self.clock = SimClock(self.config.clock_start, self.config.frozen_clock)
        self.scheduler = Scheduler(self.clock, on_error=self.log)
        cfg = self.config
        self.sender = WebhookSender(
            policy=RetryPolicy(backoff=cfg.webhook_backoff, factor=cfg.webhook_backoff_factor,
                               backoff_max=cfg.webhook_backoff_max,
                               horizon=cfg.webhook_retry_horizon,
                               retries=cfg.webhook_retries),
            timeout=cfg.webhook_timeout, workers=cfg.webhook_workers,
            log=self.log, now=self.clock.now, limit=self.config.journal_limit)
        self.media = MediaStore(secrets.token_bytes(32))
        self._id_counter = itertools.count(random.randint(10**14, 9 * 10**14) * 10)
        self.templates = TemplateStore(self.new_id, self.clock.now)
        self.rng = random.Random(self.config.seed)
        self.base_url = ""
        self._outbound_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._init_state()

    # ------------------------------------------------------------------ basics
    def _init_state(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}  # by the (maybe hidden) number
        self._by_bsuid: dict[str, str] = {}
        self.inbound: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self._accepted: list[dict[str, Any]] = []
        self._rejected: list[dict[str, Any]] = []
        self._send_times: dict[str, deque] = {}
        self._pair: dict[tuple[str, str], tuple[float, float]] = {}
        self.faults: list[dict[str, Any]] = []
        self.reorder = False
        self.batch = False
        self.batch_window = max(self.config.status_latency * 4, 0.2)
        self._batch_buffer: dict[str, list[dict[str, Any]]] = {}
        for customer in self.config.customers:
            self.register_customer(**customer)
        for tpl in self.config.templates:
            self.templates.add(str(tpl.get("waba_id") or self.config.accounts[0].waba_id),
                               tpl, status=tpl.get("status", "APPROVED"))

    def log(self, line: str) -> None:
        if self._log_fn:
            stamp = time.strftime("%H:%M:%S", time.gmtime(self.clock.now()))
            self._log_fn(f"[sim {stamp}] {line}")

    def new_id(self) -> str:
        return str(next(self._id_counter))

    @staticmethod
    def new_wamid(wa_id: str) -> str:
        raw = (b"\x1c\x18" + bytes([len(wa_id)]) + wa_id.encode() + b"\x15\x02\x00\x11\x18\x12"
               + secrets.token_hex(9).upper().encode() + b"\x00")
        return "wamid." + base64.b64encode(raw).decode()

    def now_ts(self) -> int:
        return int(self.clock.now())

    def on_outbound(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self._outbound_listeners.append(listener)

    # ---------------------------------------------------------------- accounts
    def account(self, phone_number_id: str | None = None) -> Account:
        if phone_number_id is None:
            return self.config.accounts[0]
        for acc in self.config.accounts:
            if acc.phone_number_id == str(phone_number_id):
                return acc
        raise not_found(str(phone_number_id))

    def waba_accounts(self, waba_id: str) -> list[Account]:
        return [a for a in self.config.accounts if a.waba_id == str(waba_id)]

    def authorize(self, token: str | None, accounts: list[Account]) -> Account:
        """The token must be known, and belong to one of ``accounts``."""
        if not token:
            raise auth_error("An active access token must be used to query information.")
        if not any(a.access_token == token for a in self.config.accounts):
            raise auth_error("Invalid OAuth access token - Cannot parse access token")
        for acc in accounts:
            if acc.access_token == token:
                return acc
        raise auth_error("The access token does not belong to the owner of this object.")

    def authorize_phone(self, token: str | None, phone_number_id: str) -> Account:
        self.authorize(token, self.config.accounts)
        return self.authorize(token, [self.account(phone_number_id)])

    # --------------------------------------------------------------- customers
    def register_customer(self, wa_id: str, name: str | None = None,
                          phone: str | None = None, *, bsuid: str | None = None,
                          parent_bsuid: str | None = None, username: str | None = None,
                          username_only: bool | None = None) -> dict[str, Any]:
        """Every customer has a number, known to Meta, and a BSUID. A ``username_only``
        customer's number is withheld from webhooks (see identity.py)."""
        wa_id = str(wa_id)
        with self._lock:
            customer = self.customers.get(wa_id)
            if customer is None:
                customer = self.customers[wa_id] = {
                    "wa_id": wa_id, "name": None, "phone": None, "last_inbound": {},
                    "opted_out": False, "bsuid": bsuid or self._new_bsuid(wa_id),
                    "parent_bsuid": None, "username": None, "username_only": False,
                    "number_shared_until": 0.0, "previous_wa_ids": [],
                    "previous_bsuids": []}
                self._by_bsuid[customer["bsuid"]] = wa_id
            elif bsuid and bsuid != customer["bsuid"]:
                self._by_bsuid.pop(customer["bsuid"], None)
                customer["bsuid"] = bsuid
                self._by_bsuid[bsuid] = wa_id
            if name:
                customer["name"] = name
            if phone:
                customer["phone"] = wa_digits(str(phone))
            if parent_bsuid:
                customer["parent_bsuid"] = parent_bsuid
            if username:
                customer["username"] = username
            if username_only is not None:
                customer["username_only"] = bool(username_only)
            return customer

    def _new_bsuid(self, wa_id: str, generation: int = 0) -> str:
        return new_bsuid(wa_id, f"sim-portfolio-{self.config.seed}", generation)

    def customer_by_bsuid(self, bsuid: str) -> dict[str, Any] | None:
        with self._lock:
            wa_id = self._by_bsuid.get(bsuid)
            return self.customers.get(wa_id) if wa_id else None

    def number_visible(self, customer: dict[str, Any]) -> bool:
        return number_visible(customer, self.clock.now())

    def contact_block(self, customer: dict[str, Any], status: str | None = None
                      ) -> dict[str, Any]:
        return contact_block(customer, self.clock.now(), status=status)

    def resolve_wa_id(self, digits: str) -> str:
        with self._lock:
            if digits in self.customers:
                return digits
            for customer in self.customers.values():
                if customer.get("phone") == digits:
                    return customer["wa_id"]
            for variant in brazil_variants(digits):
                if variant in self.customers:
                    return variant
        return digits

    def window_open(self, phone_number_id: str, wa_id: str) -> bool:
        with self._lock:
            customer = self.customers.get(wa_id)
            last = customer["last_inbound"].get(phone_number_id) if customer else None
        return last is not None and self.clock.now() - last <= WINDOW_SECONDS

    # -------------------------------------------------------------------- send
    def send_message(self, token: str | None, phone_number_id: str, body: Any) -> dict[str, Any]:
        account = self.authorize_phone(token, phone_number_id)
        info = validate_send(body)
        if info["kind"] == "read":
            with self._lock:
                inbound = self.inbound.get(info["message_id"])
            if not inbound or inbound["phone_number_id"] != account.phone_number_id:
                raise GraphError(131009, f"Invalid message_id '{info['message_id']}': no "
                                         "such inbound message for this phone number.")
            with self._lock:
                inbound["read"] = True
                if info["typing"]:
                    inbound["typing_at"] = self.clock.now()
            return {"success": True}
        msg_type, obj = info["type"], info["object"]
        forced_failure = None
        if info["to"] is not None:
            wa_id = self.resolve_wa_id(wa_digits(info["to"]))
            with self._lock:  # Meta knows every WhatsApp user, and gives each a BSUID
                customer = self.register_customer(wa_id)
                # messaging the number shares it for 30 days
                customer["number_shared_until"] = self.clock.now() + NUMBER_SHARED_SECONDS
        else:
            customer = self.customer_by_bsuid(info["recipient"])
            # An unknown BSUID is accepted, then fails like an unknown number does.
            wa_id = customer["wa_id"] if customer else None
            if customer is None:
                forced_failure = (131026, "Message undeliverable: unknown recipient "
                                          f"{info['recipient']}.")
        category = None
        if msg_type in ("image", "audio", "video", "document", "sticker") and "id" in obj:
            media = self.media.get(obj["id"])
            if media is None or self.account(media.owner).waba_id != account.waba_id:
                raise GraphError(131009, f"Media id '{obj['id']}' was not found for this "
                                         "business account.")
            wanted = MEDIA_FAMILY_FOR_TYPE.get(msg_type)
            if wanted and mime_family(media.mime_type) != wanted:
                forced_failure = (131053, f"Media type {media.mime_type} is not supported for "
                                          f"{msg_type} messages.")
        if msg_type == "template":
            tpl = self.templates.find(account.waba_id, obj["name"], obj["language"]["code"])
            if tpl is None:
                raise GraphError(132001, f"template name ({obj['name']}) does not exist in "
                                         f"{obj['language']['code']}")
            if tpl["status"] == "PAUSED":
                raise GraphError(132015, f"Template {obj['name']} is paused.")
            if tpl["status"] == "DISABLED":
                raise GraphError(132016, f"Template {obj['name']} is disabled.")
            if tpl["status"] != "APPROVED":
                raise GraphError(132001, f"template name ({obj['name']}) is not approved "
                                         f"in {obj['language']['code']} (status "
                                         f"{tpl['status']})")
            check_send_parameters(tpl, obj.get("components"))
            category = tpl["category"]
            with self._lock:
                opted_out = self.customers.get(wa_id, {}).get("opted_out")
            if category == "MARKETING" and opted_out:
                raise GraphError(131050, "The recipient has stopped marketing messages from "
                                         "this business.")
        elif wa_id is not None and not self.window_open(account.phone_number_id, wa_id):
            # Meta accepts a free-form message outside the window, then fails it in a
            # status webhook (cloud_api.md, "Example: failed status"); the 400 of older
            # simulators only when a test asks for it.
            if self.config.window_errors == "sync":
                raise GraphError(131047, WINDOW_CLOSED_DETAILS)
            forced_failure = (131047, WINDOW_CLOSED_DETAILS)
        wamid = self._take_rate(account, wa_id or info["recipient"])
        window = wa_id is not None and self.window_open(account.phone_number_id, wa_id)
        record = {
            "id": wamid, "phone_number_id": account.phone_number_id, "to": info["to"],
            "recipient": info["recipient"] if info["to"] is None else None,
            "user_id": customer["bsuid"] if customer else info["recipient"],
            "wa_id": wa_id, "type": msg_type, "body": body, "category": category,
            "biz_opaque_callback_data": body.get("biz_opaque_callback_data"),
            "created": self.clock.now(), "status": "accepted", "statuses": [],
            "pricing": pricing(category, window),
        }
        with self._lock:
            self.messages[wamid] = record
        self._plan_statuses(record, forced_failure)
        for listener in list(self._outbound_listeners):
            try:
                listener(record)
            except Exception as exc:  # listeners must never break a send
                self.log(f"outbound listener failed: {exc!r}")
        message: dict[str, Any] = {"id": wamid}
        if msg_type == "template":
            message["message_status"] = "accepted"
        if info["to"] is not None:
            contact = {"input": info["to"], "wa_id": wa_id}
        else:  # a send to a BSUID answers with user_id instead of wa_id
            contact = {"input": info["recipient"], "user_id": info["recipient"]}
        return {"messaging_product": "whatsapp", "contacts": [contact],
                "messages": [message]}

    def _take_rate(self, account: Account, wa_id: str) -> str:
        now = self.clock.now()
        cfg = self.config
        with self._lock:
            times = self._send_times.setdefault(account.phone_number_id, deque())
            while times and times[0] <= now - 1.0:
                times.popleft()
            if len(times) >= account.mps:
                raise GraphError(130429, f"Throughput of {account.mps} messages per second "
                                         "reached for this phone number.")
            key = (account.phone_number_id, wa_id)
            tokens, last = self._pair.get(key, (float(cfg.pair_rate_burst), now))
            tokens = min(float(cfg.pair_rate_burst),
                         tokens + (now - last) / max(cfg.pair_rate_per_seconds, 1e-9))
            if tokens < 1.0:
                raise GraphError(131056, "Too many messages sent from this phone number to "
                                         "the same phone number in a short period of time.")
            self._pair[key] = (tokens - 1.0, now)
            times.append(now)
        return self.new_wamid(wa_id)

    # ---------------------------------------------------------------- statuses
    def _plan_statuses(self, record: dict[str, Any], forced_failure=None) -> None:
        with self._lock:
            failed = forced_failure or (
                (131026, "Message Undeliverable.")
                if self.rng.random() < self.config.failure_rate else None)
            read = self.rng.random() < self.config.read_probability
            reorder = self.reorder
        # A message refused before leaving Meta (re-engagement, unknown recipient) never
        # gets a ``sent``.
        plan: list[tuple[str, Any]] = [] if failed and failed[0] in (131047, 131026) \
            and forced_failure else [("sent", None)]
        if failed:
            plan.append(("failed", failed))
        else:
            plan.append(("delivered", None))
            if read:
                plan.append(("read", None))
        if reorder:
            plan.reverse()
        latency = self.config.status_latency
        for i, (status, err) in enumerate(plan, 1):
            self.scheduler.call_later(
                latency * i, lambda s=status, e=err: self.emit_status(record["id"], s, e))

    def emit_status(self, wamid: str, status: str, error: Any = None) -> dict[str, Any]:
        with self._lock:
            record = self.messages[wamid]
            account = self.account(record["phone_number_id"])
            customer = self.customers.get(record["wa_id"]) if record["wa_id"] else None
            entry: dict[str, Any] = {"id": wamid, "status": status,
                                     "timestamp": str(self.now_ts())}
            # recipient_id only where the number may be shown; the BSUID always (page
            # business-scoped-user-ids, "Status messages webhooks").
            if record["wa_id"] and (customer is None or self.number_visible(customer)):
                entry["recipient_id"] = record["wa_id"]
            if record.get("user_id"):
                entry["recipient_user_id"] = record["user_id"]
            if customer is not None and customer.get("parent_bsuid"):
                entry["recipient_parent_user_id"] = customer["parent_bsuid"]
            if record.get("biz_opaque_callback_data") is not None:
                entry["biz_opaque_callback_data"] = record["biz_opaque_callback_data"]
            if status in ("sent", "delivered"):
                entry["pricing"] = dict(record["pricing"])
            if status == "failed":
                entry["errors"] = [status_error(*error)]
            record["statuses"].append({"status": status, "timestamp": entry["timestamp"]})
            if status == "failed" or STATUS_RANK.get(status, 0) > \
                    STATUS_RANK.get(record["status"], 0):
                record["status"] = status
            # sent, delivered and read carry a contacts block; failed does not (the BSUID
            # page; pywa 4.5 expects one on every status: Meta wins).
            contact = (self.contact_block(customer, status)
                       if customer is not None and status != "failed" else None)
            if self.batch:
                buffer = self._batch_buffer.setdefault(account.phone_number_id, [])
                buffer.append((entry, contact))
                if len(buffer) == 1:
                    self.scheduler.call_later(
                        self.batch_window, lambda: self._flush_batch(account.phone_number_id))
                return entry
        extra = {"contacts": [contact]} if contact else {}
        payload = envelope(account.waba_id, "messages",
                           messages_value(account, **extra, statuses=[entry]))
        self.sender.submit(account, payload, kind=f"status:{status}", key=wamid)
        return entry

    def _flush_batch(self, phone_number_id: str) -> None:
        with self._lock:
            buffered = self._batch_buffer.pop(phone_number_id, [])
        if buffered:
            account = self.account(phone_number_id)
            contacts = [c for _, c in buffered if c]
            extra = {"contacts": contacts} if contacts else {}
            payload = envelope(account.waba_id, "messages",
                               messages_value(account, **extra,
                                              statuses=[e for e, _ in buffered]))
            self.sender.submit(account, payload, kind="status:batch")


STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3}


def pricing(category: str | None, window_open: bool) -> dict[str, Any]:
    """Per-message pricing block (PMP). Service replies and in-window utility are free."""
    if category is None:
        return {"billable": False, "pricing_model": "PMP", "type": "free_customer_service",
                "category": "service"}
    cat = category.lower()
    if cat == "utility" and window_open:
        return {"billable": False, "pricing_model": "PMP", "type": "free_customer_service",
                "category": cat}
    return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": cat}
