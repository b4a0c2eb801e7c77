"""HTTP client for the WhatsApp Cloud API (Graph API): messages, media, templates.

Plain data in, plain data out: no Odoo here. Every failure surfaces as a
``CloudApiError`` subclass (see errors.py) so callers decide about retries by
catching meaning. The access token never appears in reprs, logs or errors.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from . import outbound
from .errors import CloudApiError, TransportError

_logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"

_DOWNLOAD_CHUNK_BYTES = 64 * 1024
# Guards against a paging loop from a misbehaving server; 1000 pages of 100 is far
# beyond the 6 000 templates a WABA may hold.
_MAX_PAGES = 1000


@dataclass(frozen=True)
class SendResult:
    """Meta accepted the message (not delivered yet: statuses come by webhook)."""

    wamid: str
    wa_id: str | None
    message_status: str | None
    raw: dict


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


class MediaTooLarge(CloudApiError):
    """The media exceeds the caller's size cap; downloading again will not help."""

    def __init__(self, message: str = "", **kwargs):
        kwargs["retryable"] = False
        super().__init__(message, **kwargs)


class CloudApiClient:
    """One WhatsApp Business phone number / WABA, talking to the Graph API."""

    def __init__(
        self,
        access_token: str,
        *,
        phone_number_id: str | None = None,
        waba_id: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout=(5, 30),
        session: requests.Session | None = None,
    ):
        if not access_token:
            raise ValueError("access_token is required")
        self._access_token = access_token
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version.strip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return (
            f"CloudApiClient(phone_number_id={self.phone_number_id!r}, waba_id={self.waba_id!r}, "
            f"base_url={self.base_url!r}, api_version={self.api_version!r}, access_token='***')"
        )

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    # ------------------------------------------------------------------ sending

    def send_message(self, payload: dict) -> SendResult:
        """The single door for outbound messages: POST {phone_number_id}/messages.

        ``payload`` is a request body made by ``outbound.addressed``.
        """
        if payload.get("messaging_product") != "whatsapp" or not (
            payload.get("to") or payload.get("recipient")
        ):
            raise ValueError("build the request with outbound.addressed()")
        response = self._request(
            "POST", f"{self._require_phone_number_id()}/messages", json=payload
        )
        first_message = _as_dict((_as_list(response.get("messages")) or [None])[0])
        wamid = first_message.get("id")
        if not wamid:
            # Not retryable: Meta may have accepted it, and a retry could send it twice.
            raise CloudApiError("send response carries no message id", retryable=False)
        first_contact = _as_dict((_as_list(response.get("contacts")) or [None])[0])
        return SendResult(
            wamid=wamid,
            wa_id=first_contact.get("wa_id") or first_contact.get("user_id"),
            message_status=first_message.get("message_status"),
            raw=response,
        )

    def send(self, message: dict, to: str, *, reply_to=None, callback_data=None) -> SendResult:
        """Send a message object from ``outbound`` (text, media, template...) to ``to``."""
        return self.send_message(
            outbound.addressed(message, to, reply_to=reply_to, callback_data=callback_data)
        )

    def mark_as_read(self, message_id: str, *, typing_indicator: bool = False) -> bool:
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing_indicator:
            body["typing_indicator"] = {"type": "text"}
        response = self._request("POST", f"{self._require_phone_number_id()}/messages", json=body)
        return bool(response.get("success"))

    # -------------------------------------------------------------------- media

    def upload_media(self, content: bytes, mime_type: str, filename: str) -> str:
        response = self._request(
            "POST",
            f"{self._require_phone_number_id()}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        media_id = response.get("id")
        if not media_id:
            raise CloudApiError("upload response carries no media id", retryable=False)
        return str(media_id)

    def get_media_info(self, media_id: str) -> MediaInfo:
        response = self._request("GET", str(media_id))
        if not response.get("url"):
            raise CloudApiError("media info carries no download url", retryable=False)
        file_size = response.get("file_size")
        try:
            file_size = int(file_size) if file_size is not None else None
        except (TypeError, ValueError):
            file_size = None
        return MediaInfo(
            id=str(response.get("id") or media_id),
            url=response["url"],
            mime_type=response.get("mime_type"),
            sha256=response.get("sha256"),
            file_size=file_size,
        )

    def download_media(self, url: str, *, max_bytes: int) -> bytes:
        """Stream ``url`` with the Bearer header; stop as soon as ``max_bytes`` is exceeded."""
        self._check_token_destination(url)
        response = self._send_http("GET", url, stream=True)
        with response:
            if not 200 <= response.status_code < 300:
                self._raise_for_response(response, _safe_json(response))
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise MediaTooLarge(f"media is {declared} bytes, over the {max_bytes} bytes cap")
            received = bytearray()
            chunk_size = max(1, min(_DOWNLOAD_CHUNK_BYTES, max_bytes + 1))
            try:
                for chunk in response.iter_content(chunk_size=chunk_size):
                    received += chunk
                    if len(received) > max_bytes:
                        raise MediaTooLarge(f"media is over the {max_bytes} bytes cap")
            except requests.RequestException as exc:
                raise self._transport_error(exc) from None
        return bytes(received)

    def fetch_media(self, media_id: str, *, max_bytes: int) -> tuple[MediaInfo, bytes]:
        """Resolve and download a media id; a 404 on the URL gets one fresh URL.

        Media URLs expire minutes after they are resolved; see "Download media" in
        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
        """
        info = self.get_media_info(media_id)
        if info.file_size is not None and info.file_size > max_bytes:
            raise MediaTooLarge(f"media is {info.file_size} bytes, over the {max_bytes} bytes cap")
        try:
            return info, self.download_media(info.url, max_bytes=max_bytes)
        except CloudApiError as exc:
            if exc.http_status != 404:
                raise
        # Download URLs expire after 5 minutes; a fresh one usually works.
        info = self.get_media_info(media_id)
        return info, self.download_media(info.url, max_bytes=max_bytes)

    def delete_media(self, media_id: str) -> bool:
        return bool(self._request("DELETE", str(media_id)).get("success"))

    # ---------------------------------------------------------------- templates

    def list_templates(self, *, fields=None, limit=100, status=None) -> list[dict]:
        """Every template of the WABA, following Graph paging over all pages."""
        params = {"limit": limit}
        if fields:
            params["fields"] = fields if isinstance(fields, str) else ",".join(fields)
        if status:
            params["status"] = status if isinstance(status, str) else ",".join(status)
        path = f"{self._require_waba_id()}/message_templates"
        templates: list[dict] = []
        response = self._request("GET", path, params=params)
        seen_pages = set()
        for _page in range(_MAX_PAGES):
            page_items = [t for t in _as_list(response.get("data")) if isinstance(t, dict)]
            templates.extend(page_items)
            paging = _as_dict(response.get("paging"))
            next_url = paging.get("next")
            after = _as_dict(paging.get("cursors")).get("after")
            if isinstance(next_url, str) and next_url:
                if next_url in seen_pages:
                    break
                seen_pages.add(next_url)
                self._check_token_destination(next_url)
                response = self._request("GET", next_url, absolute=True)
            # Graph omits `next` on the last page but keeps cursors; a bare cursor
            # only means "more" when the page came back full.
            elif after and len(page_items) >= limit and after not in seen_pages:
                seen_pages.add(after)
                response = self._request("GET", path, params={**params, "after": after})
            else:
                break
        return templates

    def create_template(self, name, language, category, components, *, parameter_format=None):
        body = {"name": name, "language": language, "category": category,
                "components": components}
        if parameter_format:
            body["parameter_format"] = parameter_format
        return self._request("POST", f"{self._require_waba_id()}/message_templates", json=body)

    def delete_template(self, name: str, *, hsm_id: str | None = None) -> bool:
        """Delete every language of ``name``, or only ``hsm_id`` when given."""
        params = {"name": name}
        if hsm_id:
            params["hsm_id"] = hsm_id
        path = f"{self._require_waba_id()}/message_templates"
        return bool(self._request("DELETE", path, params=params).get("success"))

    # ------------------------------------------------------------------ plumbing

    def _require_phone_number_id(self) -> str:
        if not self.phone_number_id:
            raise ValueError("this call needs a phone_number_id")
        return str(self.phone_number_id)

    def _require_waba_id(self) -> str:
        if not self.waba_id:
            raise ValueError("this call needs a waba_id")
        return str(self.waba_id)

    def _check_token_destination(self, url: str) -> None:
        """Refuse to send the Bearer token in clear text to a foreign host."""
        target = urlsplit(url)
        if target.scheme == "https":
            return
        base = urlsplit(self.base_url)
        if target.scheme == "http" and (
            (target.hostname, target.port) == (base.hostname, base.port)
            or _is_loopback(target.hostname)
        ):
            return
        raise ValueError("refusing to send the access token to a non-https URL")

    def _request(self, method, path_or_url, *, absolute=False, **kwargs) -> dict:
        url = path_or_url if absolute else self.url(path_or_url)
        response = self._send_http(method, url, **kwargs)
        body = _safe_json(response)
        if not 200 <= response.status_code < 300:
            self._raise_for_response(response, body)
        if not isinstance(body, dict):
            raise TransportError(
                f"{method} {self._redact(url)} returned a non-JSON body",
                http_status=response.status_code,
            )
        return body

    def _send_http(self, method, url, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._access_token}"}
        _logger.debug("WhatsApp Cloud API %s %s", method, self._redact(url))
        try:
            return self.session.request(
                method, url, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc) from None

    def _transport_error(self, exc: requests.RequestException) -> TransportError:
        if isinstance(exc, requests.Timeout):
            kind = "timeout"
        elif isinstance(exc, requests.ConnectionError):
            kind = "connection error"
        else:
            kind = "HTTP error"
        return TransportError(f"{kind} talking to the Cloud API: {self._redact(str(exc))}")

    def _raise_for_response(self, response: requests.Response, body) -> None:
        status = response.status_code
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = CloudApiError.from_graph_error(body["error"], http_status=status)
            error.message = self._redact(error.message)
            error.details = self._redact(error.details)
            raise error
        # No Graph error body: a proxy or load balancer answered.
        raise TransportError(
            f"HTTP {status} without a Graph error body",
            http_status=status,
            retryable=status >= 500 or status == 429,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._access_token, "***") if text else text


def _safe_json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


def _is_loopback(hostname: str | None) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname or "").is_loopback
    except ValueError:
        return False
