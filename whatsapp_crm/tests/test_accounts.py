from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from ..lib import crypto


@tagged("post_install", "-at_install")
class TestAccountSecrets(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = crypto.generate_key()
        cls.startClassPatcher(patch.dict(config.options, {crypto.CONFIG_OPTION: cls.key}))
        cls.account = cls.env["whatsapp.crm.account"].create({
            "name": "Secrets",
            "waba_id": "1",
            "phone_number_id": "2",
            "access_token": "EAAG-very-secret-token",
            "app_secret": "app-secret-value",
        })

    def _raw_columns(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT access_token_encrypted, app_secret_encrypted FROM whatsapp_crm_account "
            "WHERE id = %s", [self.account.id])
        return self.env.cr.fetchone()

    def test_secrets_are_encrypted_at_rest_and_write_only(self):
        token_column, secret_column = self._raw_columns()
        self.assertTrue(token_column.startswith("wacrm1:"))
        self.assertNotIn("very-secret", token_column)
        self.assertNotIn("app-secret-value", secret_column)
        self.account.invalidate_recordset()
        self.assertFalse(self.account.access_token)
        self.assertFalse(self.account.app_secret)
        self.assertTrue(self.account.has_access_token)
        self.assertEqual(self.account._get_secret("access_token"), "EAAG-very-secret-token")
        self.assertEqual(self.account._get_client().phone_number_id, "2")
        self.assertNotIn("very-secret", repr(self.account._get_client()))

    def test_an_empty_value_keeps_the_stored_secret(self):
        self.account.write({"access_token": False, "name": "Renamed"})
        self.assertEqual(self.account._get_secret("access_token"), "EAAG-very-secret-token")

    def test_key_rotation_reencrypts_with_the_new_key(self):
        old_column, _secret = self._raw_columns()
        new_key = crypto.generate_key()
        with patch.dict(config.options, {crypto.CONFIG_OPTION: f"{new_key},{self.key}"}):
            self.assertEqual(self.account._get_secret("app_secret"), "app-secret-value")
            self.account.action_reencrypt_secrets()
            new_column, _secret = self._raw_columns()
            self.assertNotEqual(new_column, old_column)
        with patch.dict(config.options, {crypto.CONFIG_OPTION: new_key}):
            self.assertEqual(self.account._get_secret("access_token"), "EAAG-very-secret-token")

    def test_saving_a_secret_without_a_key_is_refused_clearly(self):
        with patch.dict(config.options, {crypto.CONFIG_OPTION: ""}), \
                patch.dict("os.environ", {crypto.ENV_VAR: ""}), \
                self.assertRaisesRegex(UserError, "whatsapp_crm_secret_key"):
            self.account.access_token = "new-token"

    def test_salespeople_cannot_read_the_ciphertext(self):
        user = self.env["res.users"].create({
            "login": "wa_reader", "name": "Reader",
            "group_ids": [(6, 0, [self.env.ref("whatsapp_crm.group_whatsapp_crm_user").id])],
        })
        account = self.account.with_user(user)
        self.assertEqual(account.name, "Secrets")
        with self.assertRaises(AccessError):
            account.read(["access_token_encrypted"])
        with self.assertRaises(AccessError):
            account.read(["verify_token"])
