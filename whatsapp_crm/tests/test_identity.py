"""Customers identified by number, by business-scoped user id (BSUID), or both."""

from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import WhatsappCrmCase, envelope, new_wamid

NUMBER = "5511912340000"
BSUID = "BR.1502576394655843"
NEW_BSUID = "BR.8812345678901234"


@tagged("post_install", "-at_install")
class TestCustomerIdentity(WhatsappCrmCase):
    def _write(self, *, wa_id=None, bsuid=None, username=None, name="Ana Lima", text="Oi",
               system=None):
        """A message as Meta sends it since April 2026: ``from`` only when the number
        is shown, ``from_user_id`` always; system messages have no contacts."""
        message = {"id": new_wamid(), "timestamp": "1767225600"}
        if wa_id:
            message["from"] = wa_id
        if bsuid:
            message["from_user_id"] = bsuid
        if system:
            message.update(type="system", system=system)
            contacts = []
        else:
            message.update(type="text", text={"body": text})
            profile = {"name": name, **({"username": username} if username else {})}
            contact = {"profile": profile, "user_id": bsuid}
            if wa_id:
                contact["wa_id"] = wa_id
            contacts = [contact]
        value = self.messages_value([message], contacts=contacts)
        self.post_ok(envelope([("messages", value)], self.account.waba_id))
        return message["id"]

    def _conversations(self):
        return self.env["whatsapp.crm.conversation"].search(
            [("account_id", "=", self.account.id)]
        )

    def test_username_only_customer_gets_contact_and_conversation(self):
        self._write(bsuid=BSUID, username="@ana")
        conversation = self._conversations()
        self.assertEqual(len(conversation), 1)
        self.assertEqual((conversation.wa_id, conversation.bsuid, conversation.username),
                         (False, BSUID, "@ana"))
        self.assertEqual(conversation.partner_id.whatsapp_bsuid, BSUID)
        self.assertFalse(conversation.partner_id.phone)
        self.assertEqual(conversation.partner_id.name, "Ana Lima")
        self.assertIn("@ana", conversation.name)
        self.assertEqual(conversation._recipient_address(), BSUID)
        # The same customer writes again: same conversation, no second contact.
        self._write(bsuid=BSUID, username="@ana", text="Sigo aquí")
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual(len(conversation.whatsapp_message_ids), 2)

    def test_number_shown_later_joins_the_bsuid_conversation(self):
        self._write(bsuid=BSUID)
        conversation = self._conversations()
        self._write(wa_id=NUMBER, bsuid=BSUID)
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual(conversation.wa_id, NUMBER)
        self.assertEqual(conversation.partner_id.whatsapp_wa_id, NUMBER)
        self.assertEqual(conversation._recipient_address(), f"+{NUMBER}")

    def test_phone_customer_learns_its_bsuid(self):
        self._write(wa_id=NUMBER)  # a payload from before April 2026
        conversation = self._conversations()
        self.assertFalse(conversation.bsuid)
        self._write(wa_id=NUMBER, bsuid=BSUID)
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual(conversation.bsuid, BSUID)
        self.assertEqual(conversation.partner_id.whatsapp_bsuid, BSUID)

    def test_user_changed_user_id_keeps_conversation_and_contact(self):
        self._write(bsuid=BSUID, username="@ana")
        conversation = self._conversations()
        partner = conversation.partner_id
        self._write(bsuid=BSUID, system={
            "body": f"User changed from {BSUID} to {NEW_BSUID}", "type": "user_changed_user_id",
            "user_id": NEW_BSUID, "previous_user_id": BSUID})
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual(conversation.bsuid, NEW_BSUID)
        self.assertEqual(partner.whatsapp_bsuid, NEW_BSUID)
        self._write(bsuid=NEW_BSUID, text="Ya con el nuevo")
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual(self.env["res.partner"].search_count(
            [("whatsapp_bsuid", "in", [BSUID, NEW_BSUID])]), 1)

    def test_previous_user_id_alone_finds_the_conversation(self):
        """pywa's own fixture of user_changed_user_id has no from_user_id."""
        self._write(bsuid=BSUID)
        conversation = self._conversations()
        self._write(system={"body": "changed", "type": "user_changed_user_id",
                            "user_id": NEW_BSUID, "previous_user_id": BSUID})
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual(conversation.bsuid, NEW_BSUID)

    def test_user_changed_number_keeps_conversation_and_history(self):
        new_number = "5511955550000"
        self._write(wa_id=NUMBER, bsuid=BSUID)
        conversation = self._conversations()
        partner = conversation.partner_id
        self.assertEqual(partner.phone_sanitized, f"+{NUMBER}")
        self._write(wa_id=NUMBER, bsuid=BSUID, system={
            "body": f"User Ana Lima changed from {NUMBER} to {new_number}",
            "wa_id": new_number, "type": "user_changed_number", "user_id": NEW_BSUID})
        self.assertEqual(self._conversations(), conversation)
        self.assertEqual((conversation.wa_id, conversation.bsuid), (new_number, NEW_BSUID))
        self.assertEqual(partner.whatsapp_wa_id, new_number)
        self.assertEqual(partner.phone_sanitized, f"+{new_number}")
        system = conversation.whatsapp_message_ids.filtered(
            lambda m: m.message_type == "system")
        self.assertIn(NUMBER, system.body)
        self._write(wa_id=new_number, bsuid=NEW_BSUID, text="Número novo")
        self.assertEqual(self._conversations(), conversation)

    def test_number_change_onto_another_conversation_is_kept_apart(self):
        other = "5511966660000"
        self._write(wa_id=other, name="Otra")
        self._write(wa_id=NUMBER)
        with self.assertLogs("odoo.addons.whatsapp_crm.models.whatsapp_crm_conversation",
                             "WARNING"):
            self._write(wa_id=NUMBER, system={
                "body": "changed", "wa_id": other, "type": "user_changed_number"})
        self.assertEqual(sorted(self._conversations().mapped("wa_id")), sorted([NUMBER, other]))

    def test_a_conversation_is_keyed_by_number_or_bsuid(self):
        Conversation = self.env["whatsapp.crm.conversation"]
        Conversation.create({"account_id": self.account.id, "bsuid": BSUID})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            Conversation.create({"account_id": self.account.id, "bsuid": BSUID})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            Conversation.create({"account_id": self.account.id})

    def test_a_number_change_is_no_customer_message(self):
        """WhatsApp's notice opens no window, starts no cycle and awaits no answer."""
        self._write(wa_id=NUMBER, bsuid=BSUID)
        conversation = self._conversations()
        conversation.write({"window_expires_at": "2026-01-01 00:00:00", "waiting_reply": False,
                            "unread_count": 0})
        self._write(wa_id=NUMBER, bsuid=BSUID, system={
            "body": "changed", "wa_id": "5511955550000", "type": "user_changed_number",
            "user_id": NEW_BSUID})
        self.assertEqual(str(conversation.window_expires_at), "2026-01-01 00:00:00")
        self.assertFalse(conversation.waiting_reply)
        self.assertEqual(conversation.unread_count, 0)
        self.assertEqual(conversation.wa_id, "5511955550000")
