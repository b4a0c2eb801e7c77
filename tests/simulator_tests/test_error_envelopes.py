"""Graph error envelopes exactly as Meta sends them (issue 8, item 5).

Three families (sources in wacrm_simulator/errors.py):
* unknown object id: HTTP 400, GraphMethodException 100/33, no error_data;
* token errors: HTTP 401, OAuthException 190, no "(#190)" prefix, no error_data;
* WhatsApp errors (131xxx/132xxx): OAuthException, "(#code) title", error_data.

The last tests run the addon's own client (whatsapp_crm/lib, imported as top-level
``lib`` like tests/unit does) against the simulator, so a change of envelope that the
client would map to the wrong exception class fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
from wacrm_simulator.errors import GraphError, auth_error, not_found

from .support import PNID, TOKEN, WABA, Graph

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "whatsapp_crm"))

from lib import outbound  # noqa: E402
from lib.cloud_api import CloudApiClient  # noqa: E402
from lib.errors import AuthError, CloudApiError, TemplateError  # noqa: E402

CUSTOMER = "5511987650000"
UNSUPPORTED_TAIL = ("does not exist, cannot be loaded due to missing permissions, or does not "
                    "support this operation. Please read the Graph API documentation at "
                    "https://developers.facebook.com/docs/graph-api")
TEMPLATE = {"name": "order_update", "language": "en_US", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hi {{1}}."}]}


def _error(resp) -> dict:
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err["fbtrace_id"], str) and err["fbtrace_id"]
    return err


def _assert_unknown_object(resp, method: str, object_id: str) -> None:
    assert resp.status_code == 400, resp.text
    err = _error(resp)
    assert err["message"] == (f"Unsupported {method} request. Object with ID '{object_id}' "
                              + UNSUPPORTED_TAIL)
    assert err["type"] == "GraphMethodException"
    assert err["code"] == 100 and err["error_subcode"] == 33
    assert set(err) == {"message", "type", "code", "error_subcode", "fbtrace_id"}


# ------------------------------------------------------------ unknown object id

def test_get_unknown_object(graph):
    _assert_unknown_object(graph.get("999999999"), "get", "999999999")


def test_post_messages_to_unknown_phone_number_id(graph):
    resp = graph.post("123456/messages", {"messaging_product": "whatsapp", "to": CUSTOMER,
                                          "type": "text", "text": {"body": "hi"}})
    _assert_unknown_object(resp, "post", "123456")
    rejected = graph.sim.rejected()[-1]
    assert rejected["code"] == 100 and rejected["status"] == 400
    assert rejected["details"].startswith("Unsupported post request.")


def test_post_to_unknown_object_node(graph):
    _assert_unknown_object(graph.post("999999999", {"x": 1}), "post", "999999999")


def test_unknown_waba_edges(graph):
    _assert_unknown_object(graph.get("424242/message_templates"), "get", "424242")
    _assert_unknown_object(graph.get("424242/phone_numbers"), "get", "424242")


def test_deleted_media_is_an_unknown_object(graph):
    upload = graph.http.post(graph.url(f"{PNID}/media"), headers=graph.headers(),
                             data={"messaging_product": "whatsapp", "type": "image/png"},
                             files={"file": ("a.png", b"\x89PNG\r\n\x1a\nxx", "image/png")},
                             timeout=10)
    media_id = upload.json()["id"]
    url = graph.get(media_id).json()["url"]
    assert graph.delete(media_id).json() == {"success": True}
    _assert_unknown_object(graph.get(media_id), "get", media_id)
    _assert_unknown_object(graph.delete(media_id), "delete", media_id)
    # The download host stays a plain 404: the addon re-resolves the media id on 404.
    assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 404


def test_control_api_keeps_its_own_404(graph):
    resp = graph.http.get(graph.sim.base_url + "/_sim/messages/wamid.nope", timeout=10)
    assert resp.status_code == 404


# ------------------------------------------------------------------ token (190)

@pytest.mark.parametrize("token", ["not-a-token", None])
def test_invalid_or_missing_token(graph, token):
    resp = graph.send(CUSTOMER, token=token)
    assert resp.status_code == 401
    err = _error(resp)
    assert err["type"] == "OAuthException" and err["code"] == 190
    assert not err["message"].startswith("(#")
    assert "error_data" not in err and "error_subcode" not in err
    assert "is_transient" not in err
    if token:
        assert err["message"] == "Invalid OAuth access token - Cannot parse access token"


def test_invalid_token_on_a_node(graph):
    resp = graph.get(WABA, token="not-a-token")
    assert resp.status_code == 401
    err = _error(resp)
    assert err == {"message": "Invalid OAuth access token - Cannot parse access token",
                   "type": "OAuthException", "code": 190, "fbtrace_id": err["fbtrace_id"]}


def test_expired_token_envelope_has_documented_subcode():
    err = auth_error("Error validating access token: Session has expired on Tuesday, "
                     "01-Jul-25 10:00:00 PDT.", subcode=463)
    body = err.body()["error"]
    assert err.status == 401
    assert body["code"] == 190 and body["error_subcode"] == 463
    assert set(body) == {"message", "type", "code", "error_subcode", "fbtrace_id"}


def test_injected_190_fault_uses_the_token_envelope(graph):
    graph.sim.inject_fault("graph_error", code=190, path="/messages")
    resp = graph.send(CUSTOMER)
    assert resp.status_code == 401
    err = _error(resp)
    assert err["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert "error_data" not in err


# -------------------------------------------------------- WhatsApp 131xxx/132xxx

def test_template_name_does_not_exist_is_404_with_error_data(graph, sim):
    sim.seed_template(dict(TEMPLATE))
    resp = graph.send(CUSTOMER, {"type": "template", "template": {
        "name": "nope", "language": {"code": "en_US"}}})
    assert resp.status_code == 404, resp.text
    err = _error(resp)
    assert err["message"] == "(#132001) Template name does not exist in the translation"
    assert err["type"] == "OAuthException" and err["code"] == 132001
    assert err["error_data"] == {"messaging_product": "whatsapp",
                                 "details": "template name (nope) does not exist in en_US"}
    assert "error_subcode" not in err


def test_reengagement_keeps_whatsapp_envelope(make_sim):
    graph = Graph(make_sim(window_errors="sync"))
    resp = graph.send(CUSTOMER)  # no inbound message: the 24 h window is closed
    assert resp.status_code == 400
    err = _error(resp)
    assert err["message"].startswith("(#131047) ")
    assert err["type"] == "OAuthException" and err["code"] == 131047
    assert err["error_data"]["messaging_product"] == "whatsapp" and err["error_data"]["details"]
    assert "error_subcode" not in err


def test_validation_error_keeps_whatsapp_envelope(graph):
    resp = graph.send("abc")
    assert resp.status_code == 400
    err = _error(resp)
    assert err["message"].startswith("(#131009) ") and err["code"] == 131009
    assert err["error_data"]["messaging_product"] == "whatsapp"


def test_template_management_errors_keep_is_transient():
    body = GraphError(100, "bad", subcode=2388023, message="Invalid parameter").body()["error"]
    assert body["error_subcode"] == 2388023 and body["is_transient"] is False


def test_not_found_helper_defaults():
    err = not_found("77")
    assert err.status == 400 and err.subcode == 33 and err.error_type == "GraphMethodException"
    assert err.for_method("DELETE").message.startswith("Unsupported delete request.")
    explicit = not_found("77", "post").for_method("GET")
    assert explicit.message.startswith("Unsupported post request.")


# ------------------------------------------- the addon's client on these envelopes

def _client(sim, token=TOKEN, phone_number_id=PNID) -> CloudApiClient:
    return CloudApiClient(token, phone_number_id=phone_number_id, waba_id=WABA,
                          base_url=sim.base_url)


def test_client_maps_invalid_token_to_auth_error(sim):
    with pytest.raises(AuthError) as caught:
        _client(sim, token="not-a-token").send(outbound.text("hi"), CUSTOMER)
    assert caught.value.code == 190 and caught.value.http_status == 401
    assert caught.value.retryable is False


def test_client_maps_unknown_phone_number_id_to_non_retryable_error(sim):
    with pytest.raises(CloudApiError) as caught:
        _client(sim, phone_number_id="123456").send(outbound.text("hi"), CUSTOMER)
    assert caught.value.code == 100 and caught.value.http_status == 400
    assert caught.value.retryable is False
    assert "Unsupported post request" in caught.value.message


def test_client_maps_132001_to_template_error(sim):
    sim.seed_template(dict(TEMPLATE))
    message = {"type": "template", "template": {"name": "nope", "language": {"code": "en_US"}}}
    with pytest.raises(TemplateError) as caught:
        _client(sim).send(message, CUSTOMER)
    assert caught.value.code == 132001 and caught.value.http_status == 404
    assert caught.value.retryable is False
    assert caught.value.details == "template name (nope) does not exist in en_US"
