"""Error mapping: Meta codes -> exception classes callers can catch by meaning."""

import pickle

import pytest

from lib import errors
from lib.errors import (
    ApiPermissionError,
    AuthError,
    CloudApiError,
    MarketingCapError,
    MediaError,
    OptOutError,
    RecipientError,
    ReengagementError,
    TemplateError,
    ThrottlingError,
    TransportError,
)

REENGAGEMENT_WEBHOOK_ERROR = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {"details": "More than 24 hours have passed since the recipient last replied."},
    "href": "/documentation/business-messaging/whatsapp/support/error-codes",
}


@pytest.mark.parametrize(
    ("code", "expected_class"),
    [
        (0, AuthError), (190, AuthError), (102, AuthError), (463, AuthError), (467, AuthError),
        (3, ApiPermissionError), (10, ApiPermissionError), (200, ApiPermissionError),
        (299, ApiPermissionError), (131005, ApiPermissionError),
        (4, ThrottlingError), (80007, ThrottlingError), (130429, ThrottlingError),
        (131056, ThrottlingError), (131057, ThrottlingError),
        (131047, ReengagementError), (470, ReengagementError),
        (131050, OptOutError), (131049, MarketingCapError),
        (132000, TemplateError), (132001, TemplateError), (132999, TemplateError),
        (131026, RecipientError), (131030, RecipientError), (131045, RecipientError),
        (133010, RecipientError),
        (131052, MediaError), (131053, MediaError),
        (368, CloudApiError), (131048, CloudApiError), (300, CloudApiError),
        (133000, CloudApiError),
    ],
)
def test_codes_map_to_classes(code, expected_class):
    error = CloudApiError.from_graph_error({"error": {"code": code, "message": "x"}})
    assert type(error) is expected_class
    assert error.code == code


def test_auth_code_zero_is_not_mistaken_for_missing():
    error = CloudApiError.from_graph_error({"code": 0, "message": "cannot authenticate"})
    assert isinstance(error, AuthError)
    assert error.code == 0
    assert str(error).startswith("(#0) ")


def test_webhook_error_item_reads_details_from_error_data():
    error = CloudApiError.from_graph_error(REENGAGEMENT_WEBHOOK_ERROR)
    assert isinstance(error, ReengagementError)
    assert error.title == "Re-engagement message"
    assert error.details.startswith("More than 24 hours")
    assert error.href.endswith("error-codes")
    assert str(error) == (
        "(#131047) Re-engagement message: More than 24 hours have passed since the "
        "recipient last replied."
    )


def test_http_error_body_keeps_status_and_trace_id():
    body = {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",
                      "code": "130429", "error_data": {"messaging_product": "whatsapp",
                                                       "details": "Cloud API throughput hit"},
                      "fbtrace_id": "AbCdEf"}}
    error = CloudApiError.from_graph_error(body, http_status=400)
    assert isinstance(error, ThrottlingError)
    assert error.code == 130429  # numeric even when Meta sends a string
    assert error.http_status == 400
    assert error.fbtrace_id == "AbCdEf"
    assert error.retryable is True
    assert "Cloud API throughput hit" in str(error)


def test_garbage_error_object_gives_generic_error():
    error = CloudApiError.from_graph_error({"code": "not-a-number", "error_data": ["x"]})
    assert type(error) is CloudApiError
    assert error.code is None
    assert error.retryable is False
    assert type(CloudApiError.from_graph_error("not a dict")) is CloudApiError


@pytest.mark.parametrize(
    "code", [4, 80007, 130429, 131056, 131000, 131016, 131057, 133004, 131049])
def test_retryable_codes(code):
    assert errors.is_retryable(code)
    assert CloudApiError.from_graph_error({"code": code}).retryable


@pytest.mark.parametrize("code", [368, 131048, 190, 0, 131047, 131050, 132001, 131026])
def test_non_retryable_codes_even_on_5xx(code):
    assert not errors.is_retryable(code)
    assert not errors.is_retryable(code, http_status=500)
    assert not CloudApiError.from_graph_error({"code": code}, http_status=503).retryable


def test_http_5xx_without_code_is_retryable_4xx_is_not():
    assert errors.is_retryable(None, http_status=502)
    assert errors.is_retryable(1, http_status=500)  # unclassified code on a 5xx
    assert not errors.is_retryable(None, http_status=400)
    assert not errors.is_retryable(None)


def test_retry_after_seconds():
    assert errors.retry_after_seconds(131049) == 86400
    assert errors.retry_after_seconds(131057) == 60
    assert errors.retry_after_seconds(131056) == 6
    assert errors.retry_after_seconds(130429) is None
    assert errors.retry_after_seconds(None) is None
    assert CloudApiError.from_graph_error({"code": 131049}).retry_after == 86400
    assert CloudApiError.from_graph_error({"code": 190}).retry_after is None


def test_transport_error_is_retryable_by_default():
    error = TransportError("timeout talking to the Cloud API")
    assert error.retryable is True
    assert error.code is None
    assert str(error) == "timeout talking to the Cloud API"
    assert str(TransportError("bad gateway", http_status=502)) == "(HTTP 502) bad gateway"


def test_errors_survive_pickling():
    error = CloudApiError.from_graph_error(REENGAGEMENT_WEBHOOK_ERROR, http_status=400)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ReengagementError
    assert (copy.code, copy.http_status, str(copy)) == (131047, 400, str(error))


def test_repr_names_class_and_code():
    error = CloudApiError.from_graph_error({"code": 190, "message": "Token expired"})
    assert repr(error).startswith("AuthError(code=190")
