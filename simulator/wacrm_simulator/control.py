"""Control operations (Python API; also exposed over HTTP under /_sim/)."""

from __future__ import annotations

import base64
import copy
import re
import secrets
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from .errors import GraphError
from .identity import is_bsuid
from .inbound import MEDIA_TYPES, build_message, system_message
from .media import Media, sample_file
from .templates import _invalid
from .webhooks import envelope, messages_value

# slow_response: the request is handled (its statuses are scheduled) and answered only
# after `delay` seconds, so status webhooks can overtake the answer, as they do on Meta.
# A minimal RFC 8866 offer: the simulator carries no media.
SIMULATED_SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
                 "a=rtpmap:111 opus/48000/2\r\n")

FAULT_KINDS = {"http_500", "timeout", "drop_response", "graph_error", "slow_response"}


def _location_of(spec: dict[str, Any]) -> dict[str, Any]:
    loc = spec.get("location")
    return loc if isinstance(loc, dict) and loc else {}


def _interactive_of(spec: dict[str, Any]) -> dict[str, Any]:
    obj = spec.get("interactive")
    if isinstance(obj, dict) and obj:
        return obj
    for key in ("list_reply", "nfm_reply"):
        if spec.get(key):
            return {"type": key, key: spec[key]}
    return {"type": "button_reply", "button_reply": spec.get("button_reply") or {}}


def _reply_kind(spec: dict[str, Any]) -> str | None:
    """'list_reply'/'button_reply'/'button' when the inbound message answers a button or
    list row of a business message (those always carry ``context`` on Meta)."""
    if spec.get("type") == "button":
        return "button"
    if spec.get("type") == "interactive":
        kind = _interactive_of(spec).get("type")
        if kind in ("list_reply", "button_reply"):
            return kind
    return None


def _reply_choice(spec: dict[str, Any], kind: str) -> str | None:
    if kind == "button":
        obj = spec.get("button")
        return (obj if isinstance(obj, dict) else spec).get("payload")
    reply = _interactive_of(spec).get(kind) or {}
    return reply.get("id") if isinstance(reply, dict) else None


def _offered_choices(record: dict[str, Any]) -> set[str]:
    """Button ids, list row ids and quick-reply payloads offered by an outbound message."""
    body = record.get("body") or {}
    found: set[str] = set()
    action = (body.get("interactive") or {}).get("action") or {}
    for button in action.get("buttons") or []:
        found.add(str((button.get("reply") or {}).get("id")))
    for section in action.get("sections") or []:
        found.update(str(row.get("id")) for row in section.get("rows") or [])
    for comp in (body.get("template") or {}).get("components") or []:
        if str(comp.get("sub_type", "")).lower() == "quick_reply":
            found.update(str(p.get("payload")) for p in comp.get("parameters") or [])
    return found


class ControlMixin:
    """Mixed into the simulator; relies on SimulatorCore attributes."""

    # --------------------------------------------------------------- customers
    def customer_sends(self, wa_id: str | dict | None = None, text: str | None = None, *,
                       wait: bool = True, **fields: Any) -> dict[str, Any]:
        """A customer writes to the business. ``sim.customer_sends("5511...", "hi")`` or
        ``sim.customer_sends({"from": ..., "type": "image", "caption": ...})``."""
        spec: dict[str, Any] = dict(wa_id) if isinstance(wa_id, dict) else {}
        if isinstance(wa_id, str):
            spec["from"] = wa_id
        if text is not None:
            spec["text"] = text
        spec.update(fields)
        if spec.pop("async", False):
            wait = False
        sender = self._sender_of(spec)
        account = self.account(spec.get("phone_number_id"))
        msg_type = str(spec.get("type") or "text")
        spec["type"] = msg_type
        reply_kind = _reply_kind(spec)
        if reply_kind and not spec.get("context_id"):
            spec["context_id"] = self._answered_wamid(account.phone_number_id, sender, spec,
                                                      reply_kind)
        # A location's place name (the top-level ``name`` of a location spec without a
        # ``location`` object) never renames the customer; ``profile_name`` always does.
        place_named = msg_type == "location" and not _location_of(spec)
        profile_name = spec.get("profile_name") or (None if place_named else spec.get("name"))
        now = self.clock.now()
        with self._lock:
            customer = self.register_customer(
                sender, profile_name, spec.get("phone"), bsuid=spec.get("bsuid"),
                username=spec.get("username"), username_only=spec.get("username_only"))
            customer["last_inbound"][account.phone_number_id] = now
            if not customer["name"]:
                customer["name"] = f"Customer {sender[-4:]}"
            contact = self.contact_block(customer)
        wamid = self.new_wamid(sender)
        media_info = None
        if msg_type in MEDIA_TYPES:
            if spec.get("data_base64"):
                data = base64.b64decode(spec["data_base64"])
                mime = spec.get("mime_type") or "application/octet-stream"
            else:
                data, mime = sample_file(msg_type, voice=bool(spec.get("voice")),
                                         text=spec.get("caption") or "Simulated document",
                                         mime=spec.get("mime_type"))
            media = self.media.add(Media(id=self.new_id(), owner=account.phone_number_id,
                                         mime_type=mime, data=data,
                                         filename=spec.get("filename"), created=now))
            media_info = {"id": media.id, "mime_type": mime, "sha256": media.sha256_b64}
            if spec.get("media_url"):
                media_info["url"] = f"{self.base_url}/_media/{media.id}"
        message = build_message(spec, wamid=wamid, sender=contact, timestamp=int(now),
                                business_number=account.display_phone_number, media=media_info)
        with self._lock:
            self.inbound[wamid] = {"id": wamid, "from": sender, "type": msg_type,
                                   "phone_number_id": account.phone_number_id,
                                   "message": message, "timestamp": now, "read": False}
        value = messages_value(account, contacts=[contact], messages=[message])
        payload = envelope(account.waba_id, "messages", value)
        self.log(f"inbound {msg_type} from {sender} {wamid}")
        future = self.sender.submit(account, payload, kind=f"inbound:{msg_type}")
        result: dict[str, Any] = {"wamid": wamid, "message": message}
        if media_info:
            result["media_id"] = media_info["id"]
        result["delivery"] = self._wait_delivery(future) if wait else None
        return result

    def _wait_delivery(self, future) -> dict[str, Any]:
        """The delivery's outcome; ``{"pending": True}`` while Meta-like retries go on
        past a reasonable wait (the retry horizon may be days)."""
        try:
            delivery = future.result(timeout=self.config.webhook_timeout * 2 + 30)
        except FutureTimeout:
            return {"status_code": None, "attempts": None, "pending": True}
        return {"status_code": delivery["status_code"], "attempts": delivery["attempts"]}

    def _sender_of(self, spec: dict[str, Any]) -> str:
        """The customer's number from ``from`` (digits), else from a known BSUID in
        ``from_user_id`` (a username-only customer is registered with both first)."""
        sender = str(spec.get("from") or "").lstrip("+")
        if sender:
            if not sender.isdigit():
                raise GraphError(131009, "'from' must be the customer's wa_id (digits).")
            return sender
        bsuid = spec.get("from_user_id")
        customer = self.customer_by_bsuid(bsuid) if bsuid else None
        if customer is None:
            raise GraphError(131009, "Give 'from' (the customer's number) or the "
                                     "'from_user_id' of a registered customer.")
        return customer["wa_id"]

    def _answered_wamid(self, phone_number_id: str, wa_id: str, spec: dict[str, Any],
                        kind: str) -> str:
        """The business message a reply answers (Meta always sends ``context`` with list,
        button and quick-reply replies): the last outbound message to ``wa_id`` offering
        the chosen row/button/payload, else the last outbound message to ``wa_id``."""
        with self._lock:
            sent = [r for r in reversed(list(self.messages.values()))
                    if r["wa_id"] == wa_id and r["phone_number_id"] == phone_number_id]
        if not sent:
            raise GraphError(131009, f"Cannot build a {kind} from {wa_id} without context: no "
                                     "outbound message to this customer is known; send one "
                                     "first or pass context_id.", status=400)
        chosen = _reply_choice(spec, kind)
        for record in sent:
            if chosen is not None and chosen in _offered_choices(record):
                return record["id"]
        return sent[0]["id"]

    def find_customer(self, who: str) -> dict[str, Any]:
        """A registered customer by number (digits, '+' allowed) or by BSUID."""
        who = str(who)
        customer = (self.customer_by_bsuid(who) if is_bsuid(who)
                    else self.customers.get(who.lstrip("+")))
        if customer is None:
            raise GraphError(131009, f"Unknown customer '{who}'.", status=404)
        return customer

    def customer_changes_number(self, who: str, new_wa_id: str, *,
                                phone_number_id: str | None = None,
                                wait: bool = True) -> dict[str, Any]:
        """The customer moves to ``new_wa_id``: Meta issues a new BSUID and sends one
        ``system`` message (inbound.system_message says which)."""
        new_wa_id = str(new_wa_id).lstrip("+")
        if not new_wa_id.isdigit():
            raise GraphError(131009, "new_wa_id must be digits.")
        account = self.account(phone_number_id)
        with self._lock:
            customer = self.find_customer(who)
            if new_wa_id in self.customers:
                raise GraphError(131009, f"{new_wa_id} is already another customer's.")
            old_wa_id, old_bsuid = customer["wa_id"], customer["bsuid"]
            shared = self.number_visible(customer)
            del self.customers[old_wa_id]
            self._by_bsuid.pop(old_bsuid, None)
            customer["previous_wa_ids"].append(old_wa_id)
            customer["previous_bsuids"].append(old_bsuid)
            customer["wa_id"] = new_wa_id
            customer["bsuid"] = self._new_bsuid(new_wa_id, len(customer["previous_bsuids"]))
            customer["number_shared_until"] = 0.0
            self.customers[new_wa_id] = customer
            self._by_bsuid[customer["bsuid"]] = new_wa_id
            message = system_message(customer, wamid=self.new_wamid(old_wa_id),
                                     timestamp=self.now_ts(), old_wa_id=old_wa_id,
                                     old_bsuid=old_bsuid, number_shared=shared)
        # System messages have no contacts array (Meta's system reference).
        payload = envelope(account.waba_id, "messages",
                           messages_value(account, messages=[message]))
        self.log(f"{message['system']['type']}: {old_wa_id} -> {new_wa_id}")
        future = self.sender.submit(account, payload, kind="inbound:system")
        return {"wamid": message["id"], "message": message, "wa_id": new_wa_id,
                "user_id": customer["bsuid"], "previous_user_id": old_bsuid,
                "delivery": self._wait_delivery(future) if wait else None}

    def customer_calls(self, who: str, *, answered: bool = False, duration: int = 60,
                       phone_number_id: str | None = None, wait: bool = True
                       ) -> dict[str, Any]:
        """A customer calls the business: a ``connect`` then a ``terminate`` webhook
        (field ``calls``), COMPLETED with times and duration when answered, FAILED when
        missed. Shapes: Meta's Calling API webhooks as pywa 4.5 reads them
        (types/calls.py; tests/data/updates/call_terminate.json)."""
        account = self.account(phone_number_id)
        now = self.now_ts()
        with self._lock:
            customer = self.find_customer(who)
            contact = self.contact_block(customer)
            if answered:  # an answered call opens the customer service window
                customer["last_inbound"][account.phone_number_id] = self.clock.now()
        call_id = "wacid." + base64.b64encode(secrets.token_bytes(24)).decode()
        common: dict[str, Any] = {"id": call_id, "to": account.display_phone_number}
        if contact.get("wa_id"):
            common["from"] = contact["wa_id"]
        common["from_user_id"] = contact["user_id"]
        common["direction"] = "USER_INITIATED"
        connect = dict(common, event="connect", timestamp=str(now),
                       session={"sdp_type": "offer", "sdp": SIMULATED_SDP})
        end = now + (int(duration) if answered else 30)
        terminate = dict(common, event="terminate", timestamp=str(end),
                         status="COMPLETED" if answered else "FAILED")
        if answered:
            terminate.update(start_time=str(now), end_time=str(end), duration=int(duration))
        futures = [self.sender.submit(
            account, envelope(account.waba_id, "calls",
                              messages_value(account, contacts=[contact], calls=[call])),
            kind=f"call:{call['event']}", key=call_id) for call in (connect, terminate)]
        self.log(f"call {call_id} from {customer['wa_id']} "
                 f"{'answered' if answered else 'missed'}")
        return {"call_id": call_id, "connect": connect, "terminate": terminate,
                "delivery": self._wait_delivery(futures[-1]) if wait else None}

    def user_preference(self, wa_id: str, value: str = "stop",
                        phone_number_id: str | None = None) -> dict[str, Any]:
        if value not in ("stop", "resume", "signup"):
            raise GraphError(131009, "value must be 'stop', 'resume' or 'signup'.")
        account = self.account(phone_number_id)
        with self._lock:
            customer = (self.find_customer(wa_id) if is_bsuid(str(wa_id))
                        else self.register_customer(str(wa_id).lstrip("+")))
            customer["opted_out"] = value == "stop"
            contact = self.contact_block(customer)
        detail = {"stop": "User requested to stop marketing messages",
                  "resume": "User requested to resume marketing messages",
                  "signup": "User signed up for marketing messages"}[value]
        pref = {"detail": detail, "category": "marketing_messages", "value": value,
                "timestamp": self.now_ts()}
        if contact.get("wa_id"):
            pref["wa_id"] = contact["wa_id"]
        pref["user_id"] = contact["user_id"]
        payload = envelope(account.waba_id, "user_preferences",
                           messages_value(account, contacts=[contact], user_preferences=[pref]))
        future = self.sender.submit(account, payload, kind="user_preferences")
        return {"wa_id": customer["wa_id"], "value": value, "delivery": self._wait_delivery(future)}

    def send_webhook(self, payload: dict[str, Any], account: str | None = None,
                     signature: str | None = None, wait: bool = True) -> dict[str, Any]:
        if signature not in (None, "bad", "missing"):
            raise GraphError(131009, "signature must be 'bad', 'missing' or null.")
        acc = self.account(account)
        future = self.sender.submit(acc, payload, kind="custom", signature=signature)
        if not wait:
            return {"queued": True}
        return self._wait_delivery(future)

    # ------------------------------------------------------------------ faults
    def inject_fault(self, kind: str, count: int = 1, path: str | None = None,
                     code: int | None = None, delay: float | None = None,
                     status: int | None = None) -> dict[str, Any]:
        if kind not in FAULT_KINDS:
            raise GraphError(131009, f"kind must be one of {sorted(FAULT_KINDS)}.")
        fault = {"kind": kind, "remaining": int(count), "path": path,
                 "regex": re.compile(path) if path else None,
                 "code": int(code) if code is not None else 131000,
                 "delay": float(delay) if delay is not None else 2.0, "status": status}
        with self._lock:
            self.faults.append(fault)
        return {k: v for k, v in fault.items() if k != "regex"}

    def take_fault(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            for fault in self.faults:
                if fault["remaining"] > 0 and (fault["regex"] is None
                                               or fault["regex"].search(path)):
                    fault["remaining"] -= 1
                    return dict(fault)
            self.faults = [f for f in self.faults if f["remaining"] > 0]
        return None

    def webhook_faults(self, duplicate: int | None = None, reorder: bool | None = None,
                       batch: bool | None = None,
                       batch_window: float | None = None) -> dict[str, Any]:
        with self._lock:
            if duplicate is not None:
                self.sender.duplicate_next = int(duplicate)
            if reorder is not None:
                self.reorder = bool(reorder)
            if batch_window is not None:
                self.batch_window = float(batch_window)
            if batch is not None:
                self.batch = bool(batch)
            return {"duplicate": self.sender.duplicate_next, "reorder": self.reorder,
                    "batch": self.batch, "batch_window": self.batch_window}

    # ---------------------------------------------------------------- journals
    def record_request(self, entry: dict[str, Any], accepted: bool) -> None:
        with self._lock:
            journal = self._accepted if accepted else self._rejected
            journal.append(entry)
            if len(journal) > self.config.journal_limit:
                del journal[: len(journal) - self.config.journal_limit]

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._accepted)
        return [copy.deepcopy(r) for r in items if path is None or path in r["path"]]

    def rejected(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._rejected)
        return [copy.deepcopy(r) for r in items if path is None or path in r["path"]]

    def webhooks(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.sender.records() if kind is None or r["kind"].startswith(kind)]

    def message(self, wamid: str) -> dict[str, Any] | None:
        with self._lock:
            record = self.messages.get(wamid) or self.inbound.get(wamid)
            return copy.deepcopy(record) if record else None

    def customer(self, who: str) -> dict[str, Any] | None:
        """A customer by number or BSUID."""
        with self._lock:
            record = (self.customer_by_bsuid(who) if is_bsuid(who)
                      else self.customers.get(who.lstrip("+")))
            return copy.deepcopy(record) if record else None

    # ------------------------------------------------------------------- misc
    def advance_clock(self, seconds: float) -> float:
        now = self.clock.advance(float(seconds))
        self.log(f"clock advanced by {seconds}s")
        return now

    def now(self) -> float:
        return self.clock.now()

    def seed_template(self, template: dict[str, Any], waba_id: str | None = None,
                      notify: bool = False) -> dict[str, Any]:
        if not isinstance(template, dict) or not template.get("name") \
                or not template.get("language"):
            raise _invalid("A seeded template needs at least name and language.")
        waba = str(waba_id or template.get("waba_id") or self.config.accounts[0].waba_id)
        tpl = self.templates.add(waba, template, status=template.get("status", "APPROVED"))
        if notify:
            self.set_template_status(tpl["id"], tpl["status"])
        return dict(tpl)

    def reset(self) -> None:
        self.scheduler.clear()
        with self._lock:
            self.sender.clear()
            self.media.clear()
            self.templates.clear()
            self.clock.reset()
            self._init_state()
        self.log("state reset")
