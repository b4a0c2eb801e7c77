import itertools
import json
import time
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import config

from ..lib import crypto
from ..lib.webhook import compute_signature

WEBHOOK_URL = "/whatsapp_crm/webhook"
_wamid_counter = itertools.count(1)


def new_wamid(prefix="wamid.TEST"):
    return f"{prefix}{next(_wamid_counter):08d}"


def envelope(changes, waba_id):
    """Meta's envelope around a list of (field, value) changes."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [{"field": field, "value": value} for field, value in changes],
            }
        ],
    }


class WhatsappCrmCase(HttpCase):
    """Builds signed, Meta-shaped payloads and posts them to the real controller."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not crypto.load_keys(config.get(crypto.CONFIG_OPTION)):
            cls.startClassPatcher(
                patch.dict(config.options, {crypto.CONFIG_OPTION: crypto.generate_key()})
            )
        # Process in the request, so that a test reads the result of its own POST.
        cls.env["ir.config_parameter"].set_param("whatsapp_crm.webhook_processing", "inline")
        cls.company = cls.env.company
        cls.team = cls.env["crm.team"].create({"name": "WhatsApp Team"})
        cls.salesperson_1 = cls._new_salesperson("wa_sales_1", "Salesperson One")
        cls.salesperson_2 = cls._new_salesperson("wa_sales_2", "Salesperson Two")
        cls.env["crm.team.member"].create(
            [
                {"crm_team_id": cls.team.id, "user_id": cls.salesperson_1.id},
                {"crm_team_id": cls.team.id, "user_id": cls.salesperson_2.id},
            ]
        )
        cls.account = cls._new_account(
            name="Test line",
            waba_id="100000000000001",
            phone_number_id="200000000000002",
            display_phone_number="15550001111",
            app_secret="test-app-secret",
            team=cls.team,
        )

    def setUp(self):
        super().setUp()
        # Only the events of this test count, whatever the database holds already.
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM whatsapp_crm_webhook_event")
        self._event_id_floor = self.env.cr.fetchone()[0]

    @classmethod
    def _new_salesperson(cls, login, name, company=None):
        company = company or cls.env.company
        return cls.env["res.users"].create(
            {
                "login": login,
                "name": name,
                "email": f"{login}@example.com",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "group_ids": [(6, 0, [cls.env.ref("whatsapp_crm.group_whatsapp_crm_user").id])],
            }
        )

    @classmethod
    def _new_account(cls, *, app_secret, team=None, company=None, **values):
        return cls.env["whatsapp.crm.account"].create(
            {
                "company_id": (company or cls.env.company).id,
                "access_token": "test-access-token",
                "app_secret": app_secret,
                "api_base_url": "http://127.0.0.1:9",
                "team_id": team.id if team else False,
                **values,
            }
        )

    # ------------------------------------------------------------------
    # Payload builders
    # ------------------------------------------------------------------

    def messages_value(self, messages, contacts=None, account=None):
        account = account or self.account
        return {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": account.display_phone_number,
                "phone_number_id": account.phone_number_id,
            },
            "contacts": contacts or [],
            "messages": messages,
        }

    def inbound_payload(self, wa_id, name="Ana Lima", messages=None, account=None, **message):
        """One customer message (or several) in a `messages` change."""
        account = account or self.account
        if messages is None:
            message.setdefault("type", "text")
            if message["type"] == "text" and "text" not in message:
                message["text"] = {"body": "Hello"}
            messages = [self.inbound_message(wa_id, **message)]
        value = self.messages_value(
            messages, contacts=[{"profile": {"name": name}, "wa_id": wa_id}], account=account
        )
        return envelope([("messages", value)], account.waba_id)

    def inbound_message(self, wa_id, wamid=None, timestamp=None, **fields):
        return {
            "from": wa_id,
            "id": wamid or new_wamid(),
            "timestamp": timestamp or str(int(time.time())),
            **fields,
        }

    def status_payload(self, statuses, account=None):
        account = account or self.account
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": account.display_phone_number,
                "phone_number_id": account.phone_number_id,
            },
            "statuses": statuses,
        }
        return envelope([("messages", value)], account.waba_id)

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------

    def post_raw(self, raw, secret="test-app-secret", signature=None, headers=None):
        all_headers = {"Content-Type": "application/json"}
        if signature is None and secret is not None:
            signature = compute_signature(secret, raw)
        if signature is not None:
            all_headers["X-Hub-Signature-256"] = signature
        all_headers.update(headers or {})
        return self.url_open(WEBHOOK_URL, data=raw, headers=all_headers)

    def post_payload(self, payload, secret="test-app-secret", **kwargs):
        raw = json.dumps(payload, ensure_ascii=False).encode()
        response = self.post_raw(raw, secret=secret, **kwargs)
        return response

    def post_ok(self, payload, **kwargs):
        response = self.post_payload(payload, **kwargs)
        self.assertEqual(response.status_code, 200, response.text)
        return response

    # ------------------------------------------------------------------
    # Look-ups
    # ------------------------------------------------------------------

    def messages_of(self, wa_id, account=None):
        account = account or self.account
        return self.env["whatsapp.crm.message"].search(
            [("account_id", "=", account.id), ("conversation_id.wa_id", "=", wa_id)],
            order="id",
        )

    def conversation_of(self, wa_id, account=None):
        account = account or self.account
        return self.env["whatsapp.crm.conversation"].search(
            [("account_id", "=", account.id), ("wa_id", "=", wa_id)]
        )

    def events(self):
        return self.env["whatsapp.crm.webhook.event"].search(
            [("id", ">", self._event_id_floor)], order="id"
        )


__all__ = ["WhatsappCrmCase", "envelope", "new_wamid", "tagged"]
