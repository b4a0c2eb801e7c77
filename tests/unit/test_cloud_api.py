"""CloudApiClient against a real HTTP stub on 127.0.0.1 (see conftest.graph_stub)."""

import pytest

from lib import outbound
from lib.cloud_api import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    CloudApiClient,
    MediaInfo,
    MediaTooLarge,
    SendResult,
)
from lib.errors import (
    AuthError,
    CloudApiError,
    ReengagementError,
    TemplateError,
    ThrottlingError,
    TransportError,
)

from .conftest import TOKEN

PHONE_ID = "200000000000002"
WABA_ID = "100000000000001"
MESSAGES_PATH = f"/v25.0/{PHONE_ID}/messages"
TEMPLATES_PATH = f"/v25.0/{WABA_ID}/message_templates"


def accepted(wamid="wamid.OUT1", wa_id="5511987654321", **message):
    return {"messaging_product": "whatsapp",
            "contacts": [{"input": "+" + wa_id, "wa_id": wa_id}],
            "messages": [{"id": wamid, **message}]}


@pytest.fixture
def messages_ok(graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, json_body=accepted())
    return graph_stub


def sent_body(stub):
    return stub.requests_to("POST", MESSAGES_PATH)[-1].json()


# ---------------------------------------------------------------- basics

def test_defaults():
    client = CloudApiClient("t")
    assert DEFAULT_BASE_URL == "https://graph.facebook.com"
    assert DEFAULT_API_VERSION == "v25.0"
    assert client.url("123/messages") == "https://graph.facebook.com/v25.0/123/messages"


def test_url_building_and_bearer_header(client, messages_ok):
    result = client.send(outbound.text("Olá"), "+55 11 98765-4321")
    request = messages_ok.requests[-1]
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert result == SendResult(wamid="wamid.OUT1", wa_id="5511987654321",
                                message_status=None, raw=accepted())


def test_other_api_version(graph_stub):
    graph_stub.add("POST", f"/v24.0/{PHONE_ID}/messages", json_body=accepted())
    client = CloudApiClient(TOKEN, phone_number_id=PHONE_ID, base_url=graph_stub.base_url,
                            api_version="v24.0")
    assert client.send(outbound.text("hi"), "5511987654321").wamid == "wamid.OUT1"


def test_token_never_in_repr_or_errors(client, graph_stub):
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    graph_stub.add("POST", MESSAGES_PATH, status=401, json_body={"error": {
        "message": f"Invalid OAuth access token - Cannot parse access token {TOKEN}",
        "type": "OAuthException", "code": 190, "fbtrace_id": "X1"}})
    with pytest.raises(AuthError) as caught:
        client.send(outbound.text("hi"), "5511987654321")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert TOKEN not in caught.value.message
    assert "***" in caught.value.message


def test_empty_token_rejected():
    with pytest.raises(ValueError):
        CloudApiClient("")


# ---------------------------------------------------------------- sending

def test_send_text_body_shape(client, messages_ok):
    client.send(outbound.text("Olá 😀", preview_url=True), "5511987654321", reply_to="wamid.IN1",
                callback_data="mail.message:4711")
    assert sent_body(messages_ok) == {
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "+5511987654321", "type": "text", "text": {"body": "Olá 😀", "preview_url": True},
        "context": {"message_id": "wamid.IN1"}, "biz_opaque_callback_data": "mail.message:4711",
    }


def test_send_message_posts_an_addressed_body_unchanged(client, messages_ok):
    payload = outbound.addressed(outbound.text("hi"), "+55 11 98765-4321", callback_data="")
    result = client.send_message(payload)
    assert sent_body(messages_ok) == payload
    assert payload["to"] == "+5511987654321"
    assert result.wamid == "wamid.OUT1"


@pytest.mark.parametrize("payload", [
    {"to": "+5511987654321", "type": "text", "text": {"body": "hi"}},  # no messaging_product
    {"messaging_product": "sms", "to": "+5511987654321", "type": "text",
     "text": {"body": "hi"}},
    {"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}},  # no recipient
    {"messaging_product": "whatsapp", "to": "", "type": "text", "text": {"body": "hi"}},
    {"messaging_product": "whatsapp", "recipient": "", "type": "text",
     "text": {"body": "hi"}},
])
def test_send_message_refuses_bodies_not_built_by_addressed(client, graph_stub, payload):
    with pytest.raises(ValueError, match="addressed"):
        client.send_message(payload)
    assert graph_stub.requests == []


@pytest.mark.parametrize(("to", "callback_data"), [
    ("5511987654321", "x" * 513),
    ("br.a1b2c3", None),
    ("", None),
])
def test_send_validates_before_any_request(client, graph_stub, to, callback_data):
    with pytest.raises(ValueError):
        client.send(outbound.text("ok"), to, callback_data=callback_data)
    assert graph_stub.requests == []


def test_send_to_a_bsuid_goes_in_recipient(client, graph_stub):
    bsuid = "BR.1502576394655843"
    graph_stub.add("POST", MESSAGES_PATH, json_body={
        "messaging_product": "whatsapp", "contacts": [{"input": bsuid, "user_id": bsuid}],
        "messages": [{"id": "wamid.OUT7"}]})
    result = client.send(outbound.text("oi"), bsuid)
    body = sent_body(graph_stub)
    assert body["recipient"] == bsuid and "to" not in body
    assert result.wamid == "wamid.OUT7" and result.wa_id == bsuid


def test_callback_data_of_512_chars_goes_over_the_wire(client, messages_ok):
    client.send(outbound.text("ok"), "5511987654321", callback_data="x" * 512)
    assert sent_body(messages_ok)["biz_opaque_callback_data"] == "x" * 512


def test_send_media_by_id_with_caption(client, messages_ok):
    client.send(outbound.media("image", media_id="M1", caption="Invoice"), "5511987654321")
    body = sent_body(messages_ok)
    assert body["type"] == "image"
    assert body["image"] == {"id": "M1", "caption": "Invoice"}


def test_send_document_by_link_with_filename(client, messages_ok):
    client.send(outbound.media("document", link="https://x.test/a.pdf", filename="SO042.pdf"),
                "5511987654321", reply_to="wamid.IN9")
    body = sent_body(messages_ok)
    assert body["document"] == {"link": "https://x.test/a.pdf", "filename": "SO042.pdf"}
    assert body["context"] == {"message_id": "wamid.IN9"}


def test_send_voice_note(client, messages_ok):
    client.send(outbound.media("audio", media_id="A1", voice=True), "5511987654321")
    assert sent_body(messages_ok)["audio"] == {"id": "A1", "voice": True}


def test_send_template(client, graph_stub):
    graph_stub.add("POST", MESSAGES_PATH,
                   json_body=accepted(wamid="wamid.T1", message_status="accepted"))
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    result = client.send(outbound.template("order_update", "pt_BR", components),
                         "+5511987654321", callback_data="sale.order:42")
    body = sent_body(graph_stub)
    assert body["type"] == "template"
    assert body["template"] == {"name": "order_update", "language": {"code": "pt_BR"},
                                "components": components}
    assert body["biz_opaque_callback_data"] == "sale.order:42"
    assert result.message_status == "accepted"


def test_send_template_without_components(client, messages_ok):
    client.send(outbound.template("hello_world", "en_US"), "5511987654321")
    assert "components" not in sent_body(messages_ok)["template"]


def test_send_interactive_reaction_location(client, messages_ok):
    interactive = {"type": "button", "body": {"text": "Ok?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}}
    client.send(outbound.interactive(interactive), "5511987654321", reply_to="wamid.IN2")
    body = sent_body(messages_ok)
    assert body["interactive"] == interactive
    assert body["context"] == {"message_id": "wamid.IN2"}

    client.send(outbound.reaction("wamid.IN2", "👍"), "5511987654321")
    assert sent_body(messages_ok)["reaction"] == {"message_id": "wamid.IN2", "emoji": "👍"}
    client.send(outbound.reaction("wamid.IN2", ""), "5511987654321")
    assert sent_body(messages_ok)["reaction"] == {"message_id": "wamid.IN2", "emoji": ""}

    client.send(outbound.location(-23.5, -46.6, name="Shop", address="Rua A"), "5511987654321")
    assert sent_body(messages_ok)["location"] == {
        "latitude": -23.5, "longitude": -46.6, "name": "Shop", "address": "Rua A"}


def test_send_result_falls_back_to_bsuid_user_id(client, graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, json_body={
        "contacts": [{"input": "+5511987654321", "user_id": "BR.x1"}],
        "messages": [{"id": "wamid.B"}]})
    result = client.send(outbound.text("hi"), "5511987654321")
    assert (result.wamid, result.wa_id) == ("wamid.B", "BR.x1")


def test_send_response_without_wamid_is_not_retryable(client, graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, json_body={"messages": []})
    with pytest.raises(CloudApiError) as caught:
        client.send(outbound.text("hi"), "5511987654321")
    assert caught.value.retryable is False


def test_mark_as_read_with_typing_indicator(client, graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, json_body={"success": True})
    assert client.mark_as_read("wamid.IN1", typing_indicator=True) is True
    assert sent_body(graph_stub) == {"messaging_product": "whatsapp", "status": "read",
                                     "message_id": "wamid.IN1",
                                     "typing_indicator": {"type": "text"}}
    client.mark_as_read("wamid.IN2")
    assert "typing_indicator" not in sent_body(graph_stub)


def test_missing_ids_raise_before_any_request(graph_stub):
    client = CloudApiClient(TOKEN, base_url=graph_stub.base_url)
    with pytest.raises(ValueError):
        client.send(outbound.text("hi"), "5511987654321")
    with pytest.raises(ValueError):
        client.list_templates()
    assert graph_stub.requests == []


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize(("status", "code", "error_class", "retryable"), [
    (401, 190, AuthError, False),
    (400, 130429, ThrottlingError, True),
    (400, 131047, ReengagementError, False),
    (400, 132001, TemplateError, False),
    (500, 131000, CloudApiError, True),
    (400, 368, CloudApiError, False),
])
def test_graph_errors_are_mapped(client, graph_stub, status, code, error_class, retryable):
    graph_stub.add("POST", MESSAGES_PATH, status=status, json_body={"error": {
        "message": "boom", "type": "OAuthException", "code": code,
        "error_data": {"details": "because"}, "fbtrace_id": "TRACE"}})
    with pytest.raises(error_class) as caught:
        client.send(outbound.text("hi"), "5511987654321")
    assert caught.value.code == code
    assert caught.value.http_status == status
    assert caught.value.retryable is retryable
    assert caught.value.fbtrace_id == "TRACE"


def test_5xx_without_graph_body_is_retryable_transport_error(client, graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, status=502, body=b"<html>Bad Gateway</html>",
                   headers={"Content-Type": "text/html"})
    with pytest.raises(TransportError) as caught:
        client.send(outbound.text("hi"), "5511987654321")
    assert caught.value.retryable is True
    assert caught.value.http_status == 502


def test_4xx_without_graph_body_is_not_retryable(client, graph_stub):
    graph_stub.add("GET", "/v25.0/M1", status=403, body=b"forbidden")
    with pytest.raises(TransportError) as caught:
        client.get_media_info("M1")
    assert caught.value.retryable is False


def test_non_json_2xx_is_transport_error(client, graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, body=b"OK, sent!")
    with pytest.raises(TransportError, match="non-JSON"):
        client.send(outbound.text("hi"), "5511987654321")


def test_timeout_is_retryable_transport_error(graph_stub):
    graph_stub.add("POST", MESSAGES_PATH, hang=True, json_body=accepted())
    client = CloudApiClient(TOKEN, phone_number_id=PHONE_ID, base_url=graph_stub.base_url,
                            timeout=0.2)
    with pytest.raises(TransportError, match="timeout") as caught:
        client.send(outbound.text("hi"), "5511987654321")
    assert caught.value.retryable is True
    assert TOKEN not in str(caught.value)


def test_connection_refused_is_retryable_transport_error(graph_stub):
    base_url = graph_stub.base_url
    graph_stub.server.shutdown()
    graph_stub.server.server_close()  # nothing listens on that port any more
    client = CloudApiClient(TOKEN, phone_number_id=PHONE_ID, base_url=base_url, timeout=2)
    with pytest.raises(TransportError, match="connection") as caught:
        client.send(outbound.text("hi"), "5511987654321")
    assert caught.value.retryable is True


# ---------------------------------------------------------------- media

def test_upload_media_multipart(client, graph_stub):
    graph_stub.add("POST", f"/v25.0/{PHONE_ID}/media", json_body={"id": "MEDIA9"})
    media_id = client.upload_media(b"%PDF-1.4 fake", "application/pdf", "SO042.pdf")
    assert media_id == "MEDIA9"
    request = graph_stub.requests[-1]
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = request.body
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in body
    assert b'name="type"\r\n\r\napplication/pdf' in body
    assert b'name="file"; filename="SO042.pdf"' in body
    assert b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 fake" in body


def media_info_body(stub, media_id="M1", path="/files/m1", size=11):
    return {"url": stub.base_url + path, "mime_type": "image/jpeg", "sha256": "abc",
            "file_size": size, "id": media_id, "messaging_product": "whatsapp"}


def test_get_media_info(client, graph_stub):
    graph_stub.add("GET", "/v25.0/M1", json_body=media_info_body(graph_stub))
    assert client.get_media_info("M1") == MediaInfo(
        id="M1", url=graph_stub.base_url + "/files/m1", mime_type="image/jpeg", sha256="abc",
        file_size=11)


def test_fetch_media_downloads_with_bearer(client, graph_stub):
    graph_stub.add("GET", "/v25.0/M1", json_body=media_info_body(graph_stub))
    graph_stub.add("GET", "/files/m1", body=b"hello image", headers={"Content-Type": "image/jpeg"})
    info, content = client.fetch_media("M1", max_bytes=1000)
    assert content == b"hello image"
    assert info.mime_type == "image/jpeg"
    download = graph_stub.requests_to("GET", "/files/m1")[0]
    assert download.headers["Authorization"] == f"Bearer {TOKEN}"


def test_fetch_media_refreshes_url_once_on_404(client, graph_stub):
    graph_stub.add("GET", "/v25.0/M1", json_body=media_info_body(graph_stub, path="/files/old"))
    graph_stub.add("GET", "/v25.0/M1", json_body=media_info_body(graph_stub, path="/files/new"))
    graph_stub.add("GET", "/files/old", status=404, body=b"expired")
    graph_stub.add("GET", "/files/new", body=b"fresh bytes")
    info, content = client.fetch_media("M1", max_bytes=1000)
    assert content == b"fresh bytes"
    assert info.url.endswith("/files/new")
    assert len(graph_stub.requests_to("GET", "/v25.0/M1")) == 2


def test_fetch_media_gives_up_after_second_404(client, graph_stub):
    graph_stub.add("GET", "/v25.0/M1", json_body=media_info_body(graph_stub, path="/files/gone"))
    graph_stub.add("GET", "/files/gone", status=404, body=b"expired")
    with pytest.raises(CloudApiError) as caught:
        client.fetch_media("M1", max_bytes=1000)
    assert caught.value.http_status == 404
    assert len(graph_stub.requests_to("GET", "/files/gone")) == 2


def test_fetch_media_refuses_declared_oversize_before_download(client, graph_stub):
    graph_stub.add("GET", "/v25.0/M1", json_body=media_info_body(graph_stub, size=5000))
    with pytest.raises(MediaTooLarge) as caught:
        client.fetch_media("M1", max_bytes=1000)
    assert caught.value.retryable is False
    assert graph_stub.requests_to("GET", "/files/m1") == []


def test_download_cap_from_content_length(client, graph_stub):
    # The header announces 5000 bytes but only 10 arrive before the stub hangs:
    # only trusting Content-Length can raise MediaTooLarge here (reading the
    # body would end in a timeout).
    graph_stub.add("GET", "/files/big", body=b"x" * 10, content_length=False,
                   headers={"Content-Length": "5000"}, hang_after_body=True)
    with pytest.raises(MediaTooLarge):
        client.download_media(graph_stub.base_url + "/files/big", max_bytes=1000)


def test_download_cap_while_streaming_without_content_length(client, graph_stub):
    # No Content-Length: the client must count bytes as they stream in and stop
    # early; the body is never finished (the stub hangs), so buffering it all
    # would end in a timeout rather than MediaTooLarge.
    graph_stub.add("GET", "/files/stream", body=b"y" * 5000, content_length=False,
                   hang_after_body=True)
    with pytest.raises(MediaTooLarge):
        client.download_media(graph_stub.base_url + "/files/stream", max_bytes=1000)


def test_download_exactly_at_cap_is_fine(client, graph_stub):
    graph_stub.add("GET", "/files/exact", body=b"z" * 1000, content_length=False)
    assert client.download_media(graph_stub.base_url + "/files/exact", max_bytes=1000) == (
        b"z" * 1000)


def test_download_refuses_plain_http_to_foreign_host(client, graph_stub):
    with pytest.raises(ValueError):
        client.download_media("http://files.example.com/m1", max_bytes=10)
    assert graph_stub.requests == []


def test_delete_media(client, graph_stub):
    graph_stub.add("DELETE", "/v25.0/M1", json_body={"success": True})
    assert client.delete_media("M1") is True
    assert graph_stub.requests[-1].method == "DELETE"


# ---------------------------------------------------------------- templates

def test_list_templates_follows_next_over_three_pages(client, graph_stub):
    base = graph_stub.base_url
    graph_stub.add("GET", TEMPLATES_PATH, json_body={
        "data": [{"name": "a"}, {"name": "b"}],
        "paging": {"cursors": {"after": "C1"}, "next": f"{base}{TEMPLATES_PATH}?after=C1"}})
    graph_stub.add("GET", TEMPLATES_PATH, json_body={
        "data": [{"name": "c"}, {"name": "d"}],
        "paging": {"cursors": {"after": "C2"}, "next": f"{base}{TEMPLATES_PATH}?after=C2"}})
    graph_stub.add("GET", TEMPLATES_PATH, json_body={
        "data": [{"name": "e"}], "paging": {"cursors": {"before": "C2", "after": "C3"}}})
    templates = client.list_templates(fields=["name", "status"], limit=2, status="APPROVED")
    assert [t["name"] for t in templates] == ["a", "b", "c", "d", "e"]
    first, second, third = graph_stub.requests_to("GET", TEMPLATES_PATH)
    assert first.query == {"limit": ["2"], "fields": ["name,status"], "status": ["APPROVED"]}
    assert second.query == {"after": ["C1"]}
    assert third.query == {"after": ["C2"]}
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in graph_stub.requests)


def test_list_templates_follows_bare_cursors_when_pages_are_full(client, graph_stub):
    graph_stub.add("GET", TEMPLATES_PATH, json_body={
        "data": [{"name": "a"}, {"name": "b"}], "paging": {"cursors": {"after": "C1"}}})
    graph_stub.add("GET", TEMPLATES_PATH, json_body={
        "data": [{"name": "c"}], "paging": {"cursors": {"after": "C2"}}})
    templates = client.list_templates(limit=2)
    assert [t["name"] for t in templates] == ["a", "b", "c"]
    assert [r.query.get("after") for r in graph_stub.requests] == [None, ["C1"]]


def test_list_templates_stops_on_repeated_next(client, graph_stub):
    loop_url = f"{graph_stub.base_url}{TEMPLATES_PATH}?after=SAME"
    graph_stub.add("GET", TEMPLATES_PATH,
                   json_body={"data": [{"name": "a"}], "paging": {"next": loop_url}})
    assert [t["name"] for t in client.list_templates()] == ["a", "a"]
    assert len(graph_stub.requests) == 2


def test_create_template(client, graph_stub):
    graph_stub.add("POST", TEMPLATES_PATH,
                   json_body={"id": "T9", "status": "PENDING", "category": "UTILITY"})
    components = [{"type": "BODY", "text": "Hi {{name}}",
                   "example": {"body_text_named_params": [{"param_name": "name",
                                                           "example": "Ana"}]}}]
    result = client.create_template("order_ready", "en_US", "UTILITY", components,
                                    parameter_format="named")
    assert result == {"id": "T9", "status": "PENDING", "category": "UTILITY"}
    assert graph_stub.requests[-1].json() == {
        "name": "order_ready", "language": "en_US", "category": "UTILITY",
        "components": components, "parameter_format": "named"}
