"""Scripted customers: personas that write periodically and answer outbound messages."""

from __future__ import annotations

import random
import threading
from typing import Any

from .personas import PERSONAS


class ScriptRunner:
    """Drives the ``demo`` script against a running simulator."""

    def __init__(self, sim, interval: float = 8.0, reply_probability: float = 0.7,
                 reply_delay: tuple[float, float] = (2.0, 6.0), seed: int | None = None,
                 personas: list[dict[str, Any]] | None = None):
        self.sim = sim
        self.interval = interval
        self.reply_probability = reply_probability
        self.reply_delay = reply_delay
        self.rng = random.Random(seed)
        self.personas = personas or PERSONAS
        self._by_wa_id = {p["wa_id"]: p for p in self.personas}
        self._step = {p["key"]: 0 for p in self.personas}
        self._last_outbound: dict[str, str] = {}
        self._turn = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent: list[dict[str, Any]] = []
        for persona in self.personas:
            sim.register_customer(persona["wa_id"], persona["name"], persona.get("phone"),
                                  username=persona.get("username"),
                                  username_only=persona.get("username_only"))
        sim.on_outbound(self._on_outbound)

    def start(self) -> ScriptRunner:
        self._thread = threading.Thread(target=self._loop, name="sim-script", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # keep the demo alive
                self.sim.log(f"script step failed: {exc!r}")
            self._stop.wait(self.interval)

    def tick(self) -> dict[str, Any]:
        """Send the next scripted message (round-robin over personas)."""
        persona = self.personas[self._turn % len(self.personas)]
        self._turn += 1
        index = self._step[persona["key"]]
        self._step[persona["key"]] = index + 1
        steps = persona["steps"]
        step = dict(steps[index % len(steps)])
        if index >= len(steps):
            step.pop("referral", None)  # the ad referral only comes with the first contact
        return self._send(persona, step)

    def _spec(self, persona: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
        spec = {"from": persona["wa_id"], "name": persona["name"], **step}
        kind = spec.get("type")
        if kind == "quoted":
            spec["type"] = "text"
            quoted = self._last_outbound.get(persona["wa_id"])
            if quoted:
                spec["context_id"] = quoted
        elif kind == "button_reply":
            spec["type"] = "interactive"
            choice = self.rng.choice([("confirm", "Confirmar ✅"), ("later", "Más tarde"),
                                      ("agent", "Hablar con alguien")])
            quoted = self._last_outbound.get(persona["wa_id"])
            if quoted:
                spec["button_reply"] = {"id": choice[0], "title": choice[1]}
                spec["context_id"] = quoted
            else:  # no button was ever sent to tap: the customer types the answer instead
                spec["type"] = "text"
                spec["text"] = choice[1]
        return spec

    def _send(self, persona: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
        result = self.sim.customer_sends(self._spec(persona, step), wait=False)
        self.sent.append({"persona": persona["key"], "wamid": result["wamid"],
                          "type": result["message"]["type"]})
        return result

    # --------------------------------------------------------------- replies
    def _on_outbound(self, record: dict[str, Any]) -> None:
        persona = self._by_wa_id.get(record["wa_id"])
        if persona is None or record["type"] == "reaction":
            return
        self._last_outbound[persona["wa_id"]] = record["id"]
        if self._stop.is_set() or self.rng.random() >= self.reply_probability:
            return
        reply = self._reply_for(persona, record)
        delay = self.rng.uniform(*self.reply_delay)
        self.sim.scheduler.call_later(delay, lambda: self._send(persona, reply))

    def _reply_for(self, persona: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        body = record.get("body") or {}
        context = {"context_id": record["id"]}
        if record["type"] == "interactive":
            interactive = body.get("interactive") or {}
            buttons = (interactive.get("action") or {}).get("buttons") or []
            if buttons:
                reply = self.rng.choice(buttons).get("reply", {})
                return {"type": "interactive", "button_reply": {
                    "id": reply.get("id", "ok"), "title": reply.get("title", "OK")}, **context}
            sections = (interactive.get("action") or {}).get("sections") or []
            rows = [row for s in sections for row in (s.get("rows") or [])]
            if rows:
                row = self.rng.choice(rows)
                return {"type": "interactive", "list_reply": {
                    "id": row.get("id"), "title": row.get("title"),
                    "description": row.get("description", "")}, **context}
        if record["type"] == "template":
            for comp in (body.get("template") or {}).get("components") or []:
                if str(comp.get("sub_type", "")).lower() == "quick_reply":
                    payload = (comp.get("parameters") or [{}])[0].get("payload", "OK")
                    return {"type": "button", "payload": payload, "text": "OK", **context}
        if self.rng.random() < 0.15:
            return {"type": "reaction", "message_id": record["id"],
                    "emoji": self.rng.choice(["👍", "❤️", "🙏", "😂"])}
        return {"type": "text", "text": self.rng.choice(persona["replies"]), **context}
