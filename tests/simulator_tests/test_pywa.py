"""The simulator driven by pywa 4.5, an independent client written against Meta's API.

Every request goes out through pywa's own client, pointed at the simulator; every
webhook the simulator sends goes through pywa's signature validator and its own update
handling, and must come out as the right typed object with the right fields.

Where Meta's documentation and pywa 4.5 disagree the simulator follows Meta, and the
test pins pywa's behaviour so that a pywa release that changes it is noticed:
- a ``failed`` status has no ``contacts`` block (Meta's business-scoped-user-ids page:
  contacts on sent, delivered and read only); pywa's MessageStatus reads contacts[0];
- ``user_changed_user_id`` of a customer whose number is withheld has no ``from``
  (Meta's system messages reference; pywa's own fixture tests/data/updates/system.json
  has none either); pywa's PhoneNumberChange reads ``from``.
"""

from __future__ import annotations

import json
import logging

import pytest
from pywa import WhatsApp, errors, handlers, types
from pywa.types import templates as tpl
from pywa.types.callback import Button, Section, SectionList, SectionRow

from .support import PNID, SECRET, TOKEN, VERSION, WABA, wait_for

CUSTOMER = "5511987654321"
HANDLERS = (handlers.MessageHandler, handlers.MessageStatusHandler,
            handlers.CallbackButtonHandler, handlers.CallbackSelectionHandler,
            handlers.PhoneNumberChangeHandler, handlers.IdentityChangeHandler,
            handlers.UserMarketingPreferencesHandler, handlers.TemplateStatusUpdateHandler,
            handlers.CallConnectHandler, handlers.CallTerminateHandler,
            handlers.FlowCompletionHandler)


class PywaSide:
    """A pywa client on the simulator, and pywa's parse of every webhook received."""

    def __init__(self, sim, receiver):
        self.sim, self.receiver = sim, receiver
        self.wa = WhatsApp(phone_id=PNID, token=TOKEN, app_secret=SECRET, waba_id=WABA)
        # pywa fixes graph.facebook.com as its base URL; only the host changes here.
        self.wa.api._session.base_url = f"{sim.base_url}/{VERSION}"
        self.updates: list[object] = []
        self._seen = 0
        for handler in HANDLERS:
            self.wa.add_handlers(handler(lambda _, update: self.updates.append(update)))

    def feed(self) -> list[object]:
        """Validate and hand pywa each new webhook; the typed updates it built."""
        before = len(self.updates)
        for hit in self.receiver.hits[self._seen:]:
            signature = hit["headers"].get("X-Hub-Signature-256")
            assert self.wa.webhook_update_validator(hit["raw"], signature) is None, hit
            assert self.wa.webhook_update_handler(hit["raw"]) == ("ok", 200)
        self._seen = len(self.receiver.hits)
        return self.updates[before:]

    def wait_hits(self, count: int) -> None:
        wait_for(lambda: len(self.receiver.hits) - self._seen >= count)


@pytest.fixture
def side(make_sim, receiver):
    # Templates are approved by the tests themselves, never by the simulator's timer.
    return PywaSide(make_sim(status_latency=0.02, template_approval_delay=3600), receiver)


def _one(updates, kind):
    found = [u for u in updates if isinstance(u, kind)]
    assert len(found) == 1, updates
    return found[0]


# ------------------------------------------------------------------------ sending
def test_every_send_type_through_pywa(side):
    sim, wa = side.sim, side.wa
    sim.customer_sends(CUSTOMER, "hola", name="Ana")
    inbound = sim.inbound and list(sim.inbound)[-1]
    media = wa.upload_media(media=b"\x89PNG\r\n\x1a\n" + b"0" * 64, mime_type="image/png",
                            filename="p.png")
    sent = [
        wa.send_message(CUSTOMER, "texto"),
        wa.send_message(CUSTOMER, "¿Sí?", buttons=[Button("Sí", "yes"), Button("No", "no")]),
        wa.send_message(CUSTOMER, "Elija", buttons=SectionList("Opciones", sections=[
            Section("A", rows=[SectionRow("Uno", "r1"), SectionRow("Dos", "r2")])])),
        wa.send_image(CUSTOMER, media.id, caption="foto"),
        wa.send_document(CUSTOMER, "https://example.invalid/f.pdf", filename="f.pdf"),
        wa.send_video(CUSTOMER, "https://example.invalid/v.mp4"),
        wa.send_audio(CUSTOMER, "https://example.invalid/a.ogg"),
        wa.send_sticker(CUSTOMER, "https://example.invalid/s.webp"),
        wa.send_location(CUSTOMER, latitude=-23.56, longitude=-46.65, name="Loja"),
        wa.send_contact(CUSTOMER, types.Contact(name=types.Contact.Name(
            formatted_name="Ana Lima", first_name="Ana"),
            phones=[types.Contact.Phone(phone="+5511999990000", type="CELL")])),
        wa.send_reaction(CUSTOMER, "👍", message_id=inbound),
        wa.remove_reaction(CUSTOMER, message_id=inbound),
    ]
    assert all(s.id.startswith("wamid.") for s in sent)
    kinds = [r["json"]["type"] for r in sim.requests("/messages")
             if "type" in r["json"]]
    assert kinds == ["text", "interactive", "interactive", "image", "document", "video",
                     "audio", "sticker", "location", "contacts", "reaction", "reaction"]
    assert sim.rejected("/messages") == []


def test_send_to_a_bsuid_through_pywa(side):
    sim, wa = side.sim, side.wa
    sim.register_customer(CUSTOMER, "Ana", username="@ana", username_only=True)
    sim.customer_sends({"from_user_id": sim.customer(CUSTOMER)["bsuid"], "text": "oi"})
    bsuid = sim.customer(CUSTOMER)["bsuid"]
    sent = wa.send_message(bsuid, "olá")  # pywa puts a BSUID in `recipient`
    body = sim.requests("/messages")[-1]["json"]
    assert body["recipient"] == bsuid and "to" not in body
    assert sent.id.startswith("wamid.")
    side.wait_hits(4)  # the inbound message, then sent, delivered, read
    statuses = [u for u in side.feed() if isinstance(u, types.MessageStatus)]
    assert [s.status for s in statuses] == ["sent", "delivered", "read"]
    assert {s.from_user.bsuid for s in statuses} == {bsuid}
    assert {s.from_user.wa_id for s in statuses} == {None}  # the number stays withheld


def test_media_upload_url_and_download(side):
    data = b"%PDF-1.4 simulated"
    media = side.wa.upload_media(media=data, mime_type="application/pdf", filename="a.pdf")
    url = side.wa.get_media_url(media.id)
    assert url.mime_type == "application/pdf" and url.file_size == len(data)
    assert side.wa.get_media_bytes(url.url) == data


def test_templates_create_list_get_and_send(side):
    sim, wa = side.sim, side.wa
    created = wa.create_template(tpl.Template(
        name="order_update", language=tpl.TemplateLanguage.ENGLISH_US,
        category=tpl.TemplateCategory.UTILITY,
        components=[tpl.BodyText("Order {{1}} shipped", "SO1")]))
    assert created.status == tpl.TemplateStatus.PENDING
    sim.set_template_status(created.id, "APPROVED")
    listed = wa.get_templates()
    assert listed.total_count == 1 and listed.message_template_limit == 250
    details = wa.get_template(created.id)
    assert details.name == "order_update" and details.status == tpl.TemplateStatus.APPROVED
    assert details.quality_score.date is not None
    sent = wa.send_template(CUSTOMER, name="order_update",
                            language=tpl.TemplateLanguage.ENGLISH_US,
                            params=[tpl.BodyText.params("SO42")])
    assert sent.id.startswith("wamid.")
    wait_for(lambda: side.receiver.fields("message_template_status_update"))
    update = _one(side.feed(), types.TemplateStatusUpdate)
    assert update.new_status == tpl.TemplateStatus.APPROVED
    assert update.template_name == "order_update"


def test_read_receipt_and_typing_indicator(side):
    sim, wa = side.sim, side.wa
    wamid = sim.customer_sends(CUSTOMER, "hola")["wamid"]
    assert wa.mark_message_as_read(wamid).success is True
    assert wa.indicate_typing(wamid).success is True
    assert sim.message(wamid)["read"] is True


@pytest.mark.parametrize("case", ["132001", "132000", "190", "131009"])
def test_typed_errors(side, case):
    wa = side.wa
    side.sim.customer_sends(CUSTOMER, "hola")
    expected = {"132001": errors.TemplateNotExists, "132000": errors.TemplateParamCountMismatch,
                "190": errors.AuthorizationError, "131009": errors.InvalidParameter}[case]
    with pytest.raises(expected) as raised:
        if case == "132001":
            wa.send_template(CUSTOMER, name="nope", language=tpl.TemplateLanguage.ENGLISH_US)
        elif case == "132000":
            side.sim.seed_template({"name": "two", "language": "en_US", "components": [
                {"type": "BODY", "text": "{{1}} and {{2}}"}]})
            wa.send_template(CUSTOMER, name="two", language=tpl.TemplateLanguage.ENGLISH_US,
                             params=[tpl.BodyText.params("only one")])
        elif case == "190":
            wa.api._session.headers["Authorization"] = "Bearer wrong"
            wa.send_message(CUSTOMER, "x")
        else:
            wa.mark_message_as_read("wamid.unknown")
    assert raised.value.code == int(case)


def test_outside_window_accepted_then_failed_with_131047(side, caplog):
    sent = side.wa.send_message("5511900001111", "late")  # never wrote: window closed
    assert sent.id.startswith("wamid.")
    side.wait_hits(1)
    # Meta sends no contacts on a failed status: pywa 4.5 cannot build its object.
    with caplog.at_level(logging.ERROR, logger="pywa"):
        assert side.feed() == []
    assert "Failed to construct update" in caplog.text
    value = side.receiver.hits[-1]["json"]["entry"][0]["changes"][0]["value"]
    [status] = value["statuses"]
    assert "contacts" not in value and status["status"] == "failed"
    assert status["errors"][0]["code"] == errors.ReEngagementMessage.__error_codes__[0]
    assert status["recipient_user_id"].startswith("BR.")


# ----------------------------------------------------------------------- webhooks
INBOUND = {
    "text": {"text": "¡Hola!"},
    "image": {"caption": "foto"},
    "video": {},
    "audio": {"voice": True},
    "document": {"filename": "f.pdf"},
    "sticker": {},
    "location": {"location": {"latitude": 19.43, "longitude": -99.13, "name": "Zócalo"}},
    "contacts": {},
    "reaction": {"message_id": "wamid.OUT1", "emoji": "❤️"},
    "order": {},
    "unsupported": {},
}


@pytest.mark.parametrize("username_only", [False, True], ids=["phone", "username-only"])
@pytest.mark.parametrize("kind", list(INBOUND))
def test_inbound_webhooks_parse(side, kind, username_only):
    sim = side.sim
    sim.register_customer(CUSTOMER, "Lupita", username="@lupita" if username_only else None,
                          username_only=username_only)
    sim.customer_sends(CUSTOMER, type=kind, **INBOUND[kind])
    message = _one(side.feed(), types.Message)
    assert message.type == kind
    user = message.from_user
    assert user.bsuid == sim.customer(CUSTOMER)["bsuid"] and user.name == "Lupita"
    assert user.wa_id == (None if username_only else CUSTOMER)
    assert user.username == ("@lupita" if username_only else None)
    if kind == "text":
        assert message.text == "¡Hola!"
    if kind == "location":
        assert message.location.name == "Zócalo"


def test_button_and_list_replies_parse(side):
    sim, wa = side.sim, side.wa
    sim.customer_sends(CUSTOMER, "hola")
    asked = wa.send_message(CUSTOMER, "¿Sí?", buttons=[Button("Sí", "yes")]).id
    listed = wa.send_message(CUSTOMER, "Elija", buttons=SectionList("Ver", sections=[
        Section("A", rows=[SectionRow("Uno", "r1")])])).id
    side.wait_hits(7)
    side.feed()
    sim.customer_sends(CUSTOMER, type="interactive", button_reply={"id": "yes", "title": "Sí"})
    sim.customer_sends(CUSTOMER, type="interactive",
                       list_reply={"id": "r1", "title": "Uno", "description": ""})
    sim.customer_sends(CUSTOMER, type="button", payload="STOP_PROMO", text="Parar",
                       context_id=asked)  # a template's quick-reply button
    sim.customer_sends(CUSTOMER, type="interactive", nfm_reply={
        "name": "flow", "body": "Sent", "response_json": '{"flow_token": "t1", "ok": true}'},
        context_id=asked)  # a Flow's answer
    updates = side.feed()
    button, quick = [u for u in updates if isinstance(u, types.CallbackButton)]
    selection = _one(updates, types.CallbackSelection)
    assert button.data == "yes" and button.reply_to_message.id == asked
    assert selection.data == "r1" and selection.reply_to_message.id == listed
    assert quick.data == "STOP_PROMO" and quick.title == "Parar"
    flow = _one(updates, types.FlowCompletion)
    assert flow.token == "t1" and flow.response == {"ok": True}


@pytest.mark.parametrize("username_only", [False, True], ids=["phone", "username-only"])
def test_statuses_parse_with_contacts_and_recipient_user_id(side, username_only):
    sim, wa = side.sim, side.wa
    sim.register_customer(CUSTOMER, "Ana", username="@ana", username_only=username_only)
    sim.customer_sends({"from_user_id": sim.customer(CUSTOMER)["bsuid"], "text": "oi"})
    bsuid = sim.customer(CUSTOMER)["bsuid"]
    sent = wa.send_message(bsuid if username_only else CUSTOMER, "olá", tracker="lead:7")
    side.wait_hits(4)
    statuses = [u for u in side.feed() if isinstance(u, types.MessageStatus)]
    assert [s.status for s in statuses] == ["sent", "delivered", "read"]
    assert {s.id for s in statuses} == {sent.id} and {s.tracker for s in statuses} == {"lead:7"}
    assert {s.from_user.bsuid for s in statuses} == {bsuid}
    # Sending to the number shares it for 30 days, even for a username user.
    assert {s.from_user.wa_id for s in statuses} == {None if username_only else CUSTOMER}
    assert [s.from_user.username for s in statuses] == [None, "@ana", "@ana"]
    raw = [json.loads(h["raw"])["entry"][0]["changes"][0]["value"]["statuses"][0]
           for h in side.receiver.hits[-3:]]
    assert {r["recipient_user_id"] for r in raw} == {bsuid}
    assert all(("recipient_id" in r) is not username_only for r in raw)
    assert statuses[0].pricing is not None


def test_number_change_parses_as_phone_number_change(side):
    sim = side.sim
    sim.customer_sends(CUSTOMER, "oi", name="Ana")
    old_bsuid = sim.customer(CUSTOMER)["bsuid"]
    result = sim.customer_changes_number(CUSTOMER, "5511911112222")
    change = _one(side.feed(), types.PhoneNumberChange)
    assert change.sys_type == "user_changed_number"
    assert change.old_wa_id == CUSTOMER and change.new_wa_id == "5511911112222"
    assert change.new_user_id == result["user_id"] != old_bsuid
    raw = side.receiver.hits[-1]["json"]["entry"][0]["changes"][0]["value"]
    assert "contacts" not in raw  # Meta: system messages have no contacts array
    assert raw["messages"][0]["from_user_id"] == old_bsuid


def test_bsuid_change_of_a_withheld_number(side, caplog):
    sim = side.sim
    sim.register_customer(CUSTOMER, "Ana", username="@ana", username_only=True)
    old_bsuid = sim.customer(CUSTOMER)["bsuid"]
    result = sim.customer_changes_number(old_bsuid, "5511933334444")
    with caplog.at_level(logging.ERROR, logger="pywa"):
        assert side.feed() == []  # no `from`: pywa 4.5 cannot build PhoneNumberChange
    assert "Failed to construct update" in caplog.text
    message = side.receiver.hits[-1]["json"]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert "from" not in message
    assert message["system"] == {
        "body": f"User changed from {old_bsuid} to {result['user_id']}",
        "user_id": result["user_id"], "previous_user_id": old_bsuid,
        "type": "user_changed_user_id"}


def test_user_preferences_parse(side):
    sim = side.sim
    sim.customer_sends(CUSTOMER, "oi", name="Ana")
    sim.user_preference(CUSTOMER, "stop")
    preference = _one(side.feed(), types.UserMarketingPreferences)
    assert preference.value == "stop"
    assert preference.from_user.bsuid == sim.customer(CUSTOMER)["bsuid"]
    assert preference.from_user.wa_id == CUSTOMER


@pytest.mark.parametrize("answered", [True, False], ids=["answered", "missed"])
def test_calls_parse(side, answered):
    sim = side.sim
    sim.customer_sends(CUSTOMER, "oi", name="Ana")
    side.feed()
    result = sim.customer_calls(CUSTOMER, answered=answered, duration=42)
    side.wait_hits(2)
    updates = side.feed()
    connect = _one(updates, types.CallConnect)
    terminate = _one(updates, types.CallTerminate)
    assert connect.id == terminate.id == result["call_id"]
    assert connect.direction == "USER_INITIATED" and connect.session.sdp_type == "offer"
    assert terminate.from_user.bsuid == sim.customer(CUSTOMER)["bsuid"]
    assert terminate.status == ("COMPLETED" if answered else "FAILED")
    assert terminate.duration == (42 if answered else None)
