"""Graph endpoints for media, message templates, phone numbers and WABAs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .errors import GraphError, auth_error, not_found
from .media import Media, check_upload, parse_multipart
from .templates import (
    decode_cursor,
    encode_cursor,
    select_fields,
    summary_keys,
    translations_complete,
    validate_definition,
)
from .webhooks import envelope


class ResourcesMixin:
    """Mixed into the simulator; relies on SimulatorCore attributes."""

    # ------------------------------------------------------------------- media
    def upload_media(self, token, phone_number_id: str, content_type: str,
                     body: bytes) -> dict[str, Any]:
        account = self.authorize_phone(token, phone_number_id)
        fields = parse_multipart(content_type or "", body)
        product = fields.get("messaging_product")
        if product is None:
            raise GraphError(131008, "The parameter messaging_product is required.")
        if product[0].decode("utf-8", "replace").strip() != "whatsapp":
            raise GraphError(131009, "messaging_product must be 'whatsapp'.")
        if "file" not in fields:
            raise GraphError(131008, "The parameter file is required.")
        data, filename, part_type = fields["file"]
        declared = fields.get("type")
        mime = declared[0].decode("utf-8", "replace").strip() if declared else part_type
        if not mime:
            raise GraphError(131008, "The parameter type is required.")
        check_upload(mime, len(data))
        media = self.media.add(Media(id=self.new_id(), owner=account.phone_number_id,
                                     mime_type=mime, data=data, filename=filename,
                                     created=self.clock.now()))
        return {"id": media.id}

    def _media_for(self, token, media_id: str) -> Media:
        self.authorize(token, self.config.accounts)
        media = self.media.get(media_id)
        if media is None:
            raise not_found(media_id)
        owner = self.account(media.owner)
        self.authorize(token, self.waba_accounts(owner.waba_id))
        return media

    def media_info(self, token, media_id: str) -> dict[str, Any]:
        media = self._media_for(token, media_id)
        expires = int(self.clock.now() + self.config.media_url_ttl)
        sig = self.media.sign(media.id, expires)
        url = f"{self.base_url}/_media/{media.id}?" + urlencode({"ext": expires, "sig": sig})
        return {"messaging_product": "whatsapp", "url": url, "mime_type": media.mime_type,
                "sha256": media.sha256_hex, "file_size": len(media.data), "id": media.id}

    def delete_media(self, token, media_id: str) -> dict[str, Any]:
        self._media_for(token, media_id)
        self.media.delete(media_id)
        return {"success": True}

    def download_media(self, token, media_id: str, query: dict[str, str]) -> tuple[bytes, str]:
        if not token:
            raise auth_error("Media downloads need the Bearer access token.")
        media = self.media.get(media_id)
        try:
            expires = int(query.get("ext", "0"))
        except ValueError:
            expires = 0
        if media is None or not self.media.check_signature(media_id, expires,
                                                           query.get("sig", "")):
            raise not_found(media_id)
        if expires < self.clock.now():
            raise GraphError(100, "The media URL has expired; request a new one.", status=404)
        owner = self.account(media.owner)
        self.authorize(token, self.waba_accounts(owner.waba_id))
        return media.data, media.mime_type

    # --------------------------------------------------------------- templates
    def _waba(self, token, waba_id: str):
        accounts = self.waba_accounts(waba_id)
        self.authorize(token, self.config.accounts)
        if not accounts:
            raise not_found(waba_id)
        return self.authorize(token, accounts)

    def list_templates(self, token, waba_id: str, query: dict[str, str],
                       path: str) -> dict[str, Any]:
        self._waba(token, waba_id)
        items = self.templates.list(waba_id, query.get("status"), query.get("name"))
        try:
            limit = max(1, min(int(query.get("limit", 25)), 1000))
        except ValueError as exc:
            raise GraphError(100, "limit must be an integer.") from exc
        start = 0
        if query.get("after"):
            start = decode_cursor(query["after"]) + 1
        elif query.get("before"):
            start = max(0, decode_cursor(query["before"]) - limit)
        page = items[start:start + limit]
        data = [select_fields(t, query.get("fields")) for t in page]
        result: dict[str, Any] = {"data": data}
        if page:
            paging: dict[str, Any] = {"cursors": {"before": encode_cursor(start),
                                                  "after": encode_cursor(start + len(page) - 1)}}
            base = {k: v for k, v in query.items() if k not in ("after", "before")}
            base["limit"] = str(limit)
            if start + len(page) < len(items):
                paging["next"] = (f"{self.base_url}{path}?"
                                  + urlencode({**base, "after": paging["cursors"]["after"]}))
            if start > 0:
                paging["previous"] = (f"{self.base_url}{path}?"
                                      + urlencode({**base,
                                                   "before": paging["cursors"]["before"]}))
            result["paging"] = paging
        else:
            result["paging"] = {"cursors": {}}
        wanted = summary_keys(query.get("summary"))
        if wanted:
            everything = self.templates.list(waba_id)
            values = {"total_count": len(items),
                      "message_template_count": len(everything),
                      "message_template_limit": self.config.template_limit,
                      "are_translations_complete": translations_complete(everything)}
            result["summary"] = {k: values[k] for k in wanted}
        return result

    def create_template(self, token, waba_id: str, body: Any) -> dict[str, Any]:
        self._waba(token, waba_id)
        definition = validate_definition(body)
        tpl = self.templates.add(waba_id, definition, status="PENDING")
        self.log(f"template {tpl['name']}/{tpl['language']} created (PENDING)")
        reject = tpl["name"].startswith("sim_reject")
        self.scheduler.call_later(
            self.config.template_approval_delay,
            lambda: self.set_template_status(
                tpl["id"], "REJECTED" if reject else "APPROVED",
                reason="INVALID_FORMAT" if reject else None))
        return {"id": tpl["id"], "status": tpl["status"], "category": tpl["category"]}

    def delete_template(self, token, waba_id: str, query: dict[str, str]) -> dict[str, Any]:
        self._waba(token, waba_id)
        if not query.get("name"):
            raise GraphError(100, "The parameter name is required.")
        if not self.templates.delete(waba_id, query["name"], query.get("hsm_id")):
            raise GraphError(100, f"Template '{query['name']}' not found.", subcode=2593002)
        return {"success": True}

    def set_template_status(self, template_id: str, status: str, reason: str | None = None,
                            notify: bool = True) -> dict[str, Any]:
        found = self.templates.by_id(str(template_id))
        if found is None:
            raise not_found(str(template_id))
        waba_id, tpl = found
        with self._lock:
            tpl["status"] = status.upper()
        if notify:
            accounts = self.waba_accounts(waba_id)
            if accounts:
                value = {
                    "event": tpl["status"],
                    "message_template_id": int(tpl["id"]) if tpl["id"].isdigit() else tpl["id"],
                    "message_template_name": tpl["name"],
                    "message_template_language": tpl["language"],
                    "reason": reason if reason is not None else (
                        "NONE" if tpl["status"] == "APPROVED" else None),
                    "message_template_category": tpl["category"],
                }
                if tpl["status"] in ("PAUSED", "DISABLED"):
                    value["other_info"] = {
                        "title": "FIRST_PAUSE" if tpl["status"] == "PAUSED" else "DISABLED",
                        "description": f"Template {tpl['name']} is {tpl['status'].lower()}."}
                payload = envelope(waba_id, "message_template_status_update", value,
                                   time_=self.now_ts())
                self.sender.submit(accounts[0], payload, kind="template_status")
        self.log(f"template {tpl['name']}/{tpl['language']} -> {tpl['status']}")
        return dict(tpl)

    # ------------------------------------------------------ phone numbers/WABA
    def phone_info(self, account) -> dict[str, Any]:
        return {"verified_name": account.verified_name,
                "code_verification_status": "VERIFIED",
                "display_phone_number": account.display_phone_number,
                "quality_rating": "GREEN", "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"}, "id": account.phone_number_id}

    def get_object(self, token, object_id: str) -> dict[str, Any]:
        for acc in self.config.accounts:
            if acc.phone_number_id == object_id:
                return self.phone_info(self.authorize_phone(token, object_id))
        accounts = self.waba_accounts(object_id)
        if accounts:
            self._waba(token, object_id)
            return {"id": object_id, "name": f"{accounts[0].verified_name} WABA",
                    "currency": "USD", "timezone_id": "1",
                    "message_template_namespace": f"sim_{object_id}"}
        if self.media.get(object_id):
            return self.media_info(token, object_id)
        found = self.templates.by_id(object_id)
        if found:
            self._waba(token, found[0])
            return dict(found[1])
        self.authorize(token, self.config.accounts)
        raise not_found(object_id)

    def phone_numbers(self, token, waba_id: str) -> dict[str, Any]:
        self._waba(token, waba_id)
        return {"data": [self.phone_info(a) for a in self.waba_accounts(waba_id)],
                "paging": {"cursors": {"before": encode_cursor(0), "after": encode_cursor(0)}}}
