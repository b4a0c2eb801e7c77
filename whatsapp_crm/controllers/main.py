import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..models.whatsapp_crm_webhook_event import MAX_BODY_BYTES

_logger = logging.getLogger(__name__)


class WhatsappCrmWebhook(http.Controller):
    """Meta's webhook: a GET handshake, then signed POSTs of events."""

    @http.route(
        "/whatsapp_crm/webhook",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def webhook_verify(self, **params):
        mode = params.get("hub.mode")
        token = params.get("hub.verify_token")
        challenge = params.get("hub.challenge", "")
        Account = request.env["whatsapp.crm.account"].sudo()
        if mode == "subscribe" and token and Account.search_count([("verify_token", "=", token)]):
            return request.make_response(challenge, headers=[("Content-Type", "text/plain")])
        _logger.warning("WhatsApp webhook handshake refused (mode=%s)", mode)
        return request.make_response("Forbidden", status=403)

    @http.route(
        "/whatsapp_crm/webhook",
        type="http",
        # No user at all: the signature, checked below, vouches for the request (and
        # the public user's environment would cost every POST its lookups).
        auth="none",
        readonly=False,  # auth="none" routes get a read-only cursor by default
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def webhook_receive(self):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            return request.make_response("Payload Too Large", status=413)
        # Cached: Odoo replays the request on a serialization failure and must
        # read the same body again.
        raw_body = httprequest.get_data()
        if len(raw_body) > MAX_BODY_BYTES:
            return request.make_response("Payload Too Large", status=413)
        # Records are created by the system user: the signature, not a login, vouches for
        # them. The request's own environment too, for code that reads request.env.user.
        request.update_env(user=SUPERUSER_ID)
        Event = request.env["whatsapp.crm.webhook.event"]
        status, event = Event._receive(raw_body, httprequest.headers.get("X-Hub-Signature-256"))
        if status != 200:
            return request.make_response("Forbidden", status=status)
        # The event is durable before Meta hears 200; processing errors stay on it.
        request.env.cr.commit()  # pylint: disable=invalid-commit
        if event:
            event._dispatch()
        return request.make_json_response({"status": "received"})
