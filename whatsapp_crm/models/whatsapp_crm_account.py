import logging
import secrets

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import config

from ..lib import crypto
from ..lib.cloud_api import DEFAULT_API_VERSION, DEFAULT_BASE_URL, CloudApiClient

_logger = logging.getLogger(__name__)

# Fields whose clear value only ever lives in memory: the database keeps the
# ciphertext in `<name>_encrypted`, readable by system administrators only.
SECRET_FIELDS = ("access_token", "app_secret")

# Fields that decide which account a webhook is for, and with which secret it is signed:
# changing one clears the routing cache of every worker (see _webhook_routes).
ROUTING_FIELDS = {"active", "company_id", "waba_id", "phone_number_id", "app_secret",
                  "app_secret_encrypted"}

DEFAULT_MEDIA_MAX_BYTES = 25 * 1024 * 1024
API_TIMEOUT_SECONDS = 20


def _secret_box():
    keys = crypto.load_keys(config.get(crypto.CONFIG_OPTION))
    return crypto.SecretBox(keys)


class WhatsappCrmAccount(models.Model):
    _name = "whatsapp.crm.account"
    _description = "WhatsApp Business Account"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    waba_id = fields.Char(
        string="WhatsApp Business Account ID", required=True, index=True, tracking=True
    )
    phone_number_id = fields.Char(
        string="Phone Number ID", required=True, index=True, tracking=True
    )
    display_phone_number = fields.Char(tracking=True)
    api_base_url = fields.Char(
        string="API Base URL",
        required=True,
        default=DEFAULT_BASE_URL,
        help="Meta's Graph API, or a simulator for demos and tests.",
    )
    api_version = fields.Char(string="API Version", required=True, default=DEFAULT_API_VERSION)
    access_token = fields.Char(
        compute="_compute_secrets",
        inverse="_inverse_access_token",
        groups="whatsapp_crm.group_whatsapp_crm_manager",
        help="Permanent System User token. Write-only: it is encrypted and never shown again.",
    )
    app_secret = fields.Char(
        compute="_compute_secrets",
        inverse="_inverse_app_secret",
        groups="whatsapp_crm.group_whatsapp_crm_manager",
        help="The Meta app's secret, used to check webhook signatures. Write-only.",
    )
    access_token_encrypted = fields.Char(groups="base.group_system", copy=False)
    app_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    has_access_token = fields.Boolean(compute="_compute_has_secrets")
    has_app_secret = fields.Boolean(compute="_compute_has_secrets")
    verify_token = fields.Char(
        copy=False,
        default=lambda self: secrets.token_urlsafe(24),
        groups="whatsapp_crm.group_whatsapp_crm_manager",
        help="Paste it in Meta's App Dashboard with the callback URL.",
    )
    webhook_url = fields.Char(string="Callback URL", compute="_compute_webhook_url")
    create_lead = fields.Boolean(
        string="Create Leads",
        default=True,
        help="A customer writing without an open lead gets a new lead.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        help="Team of the leads created from WhatsApp. Without a salesperson on the "
        "contact, leads go round-robin to its members.",
    )
    round_robin_index = fields.Integer(copy=False, readonly=True)
    media_max_bytes = fields.Integer(
        string="Media Size Limit (bytes)", default=DEFAULT_MEDIA_MAX_BYTES
    )
    quality_rating = fields.Char(readonly=True, tracking=True)
    messaging_limit = fields.Char(readonly=True, tracking=True)
    mark_read_on_open = fields.Boolean(
        string="Send Read Receipts",
        default=True,
        help="When a salesperson opens a conversation, the customer sees blue ticks.",
    )
    csat_enabled = fields.Boolean(
        string="Satisfaction Survey",
        help="When a conversation is resolved while the 24-hour window is open, ask the "
        "customer to rate it from 1 to 5.",
    )
    csat_question = fields.Char(
        string="Survey Question",
        translate=True,
        default=lambda self: self.env._("How satisfied are you with our help? 1 is poor, 5 is "
                                        "excellent."),
    )
    conversation_ids = fields.One2many("whatsapp.crm.conversation", "account_id")
    template_ids = fields.One2many("whatsapp.crm.template", "account_id")
    template_count = fields.Integer(compute="_compute_template_count")
    conversation_count = fields.Integer(compute="_compute_conversation_count")

    _phone_number_id_uniq = models.Constraint(
        "UNIQUE(phone_number_id)",
        "This phone number ID is already connected to another WhatsApp account.",
    )

    def _compute_secrets(self):
        for account in self:
            account.access_token = False
            account.app_secret = False

    @api.depends_context("uid")
    def _compute_has_secrets(self):
        for account in self:
            stored = account.sudo()
            account.has_access_token = bool(stored.access_token_encrypted)
            account.has_app_secret = bool(stored.app_secret_encrypted)

    def _inverse_access_token(self):
        self._store_secret("access_token")

    def _inverse_app_secret(self):
        self._store_secret("app_secret")

    def _store_secret(self, field_name):
        for account in self:
            value = account[field_name]
            if not value:
                continue
            try:
                ciphertext = _secret_box().encrypt(value.strip())
            except crypto.MissingSecretKey as error:
                raise UserError(
                    self.env._(
                        "WhatsApp secrets cannot be saved: no encryption key is configured. "
                        "Set %(option)s in the Odoo configuration file or the %(env)s "
                        "environment variable.",
                        option=crypto.CONFIG_OPTION,
                        env=crypto.ENV_VAR,
                    )
                ) from error
            account.sudo()[f"{field_name}_encrypted"] = ciphertext

    def _get_secret(self, field_name):
        """Clear value of a secret, for server-side use only."""
        self.ensure_one()
        ciphertext = self.sudo()[f"{field_name}_encrypted"]
        if not ciphertext:
            return None
        return _secret_box().decrypt(ciphertext)

    def action_reencrypt_secrets(self):
        """After a key rotation: re-encrypt every secret with the current key."""
        box = _secret_box()
        for account in self.sudo():
            for field_name in SECRET_FIELDS:
                ciphertext = account[f"{field_name}_encrypted"]
                if ciphertext:
                    account[f"{field_name}_encrypted"] = box.rotate(ciphertext)
        return True

    @api.depends("phone_number_id")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for account in self:
            account.webhook_url = f"{base_url.rstrip('/')}/whatsapp_crm/webhook"

    def _compute_conversation_count(self):
        counts = dict(
            self.env["whatsapp.crm.conversation"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.conversation_count = counts.get(account, 0)

    def _get_client(self):
        self.ensure_one()
        token = self._get_secret("access_token")
        if not token:
            raise UserError(
                self.env._("The WhatsApp account %(name)s has no access token.", name=self.name)
            )
        return CloudApiClient(
            token,
            phone_number_id=self.phone_number_id,
            waba_id=self.waba_id,
            base_url=self.api_base_url,
            api_version=self.api_version,
            # A single number: Odoo's test HTTP guard cannot compare (connect, read) tuples.
            timeout=float(
                self.env["ir.config_parameter"].sudo().get_param(
                    "whatsapp_crm.api_timeout_seconds", API_TIMEOUT_SECONDS
                )
            ),
        )

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self.env.registry.clear_cache()  # _webhook_routes
        return accounts

    def write(self, vals):
        result = super().write(vals)
        if ROUTING_FIELDS & set(vals):
            self.env.registry.clear_cache()  # _webhook_routes, in every worker
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()  # _webhook_routes
        return result

    @api.model
    @tools.ormcache("phone_number_ids", "waba_ids")
    def _webhook_routes(self, phone_number_ids, waba_ids):
        """((account id, clear app secret), ...) of the active accounts a webhook naming
        these phone number ids, else these WABA ids, can be for.

        Cached per process: the webhook's request path must not search and decrypt on
        every POST. The secret lives in memory only, like a decrypted token does while
        it is used; the cache is cleared in every worker when an account's routing
        fields change.
        """
        Account = self.sudo().with_context(active_test=True)
        accounts = Account.browse()
        if phone_number_ids:
            accounts = Account.search([("phone_number_id", "in", list(phone_number_ids))])
        if not accounts and waba_ids:
            accounts = Account.search([("waba_id", "in", list(waba_ids))])
        return tuple((account.id, secret) for account in accounts
                     if (secret := account._readable_app_secret()))

    def _readable_app_secret(self):
        """The clear app secret, or None (logged) when it cannot be decrypted."""
        self.ensure_one()
        try:
            return self._get_secret("app_secret")
        except (crypto.MissingSecretKey, crypto.InvalidSecret):
            _logger.error(
                "WhatsApp account %s: the app secret cannot be decrypted; "
                "check the whatsapp_crm_secret_key configuration",
                self.id,
            )
            return None

    def _signature_matches(self, raw_body, signature_header):
        """True when the body was signed with this account's app secret."""
        from ..lib.webhook import verify_signature

        for account in self:
            app_secret = account._readable_app_secret()
            if app_secret and verify_signature(app_secret, raw_body, signature_header):
                return account
        return self.browse()

    def action_view_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_conversation_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action


    def _compute_template_count(self):
        counts = dict(self.env["whatsapp.crm.template"]._read_group(
            [("account_id", "in", self.ids)], ["account_id"], ["__count"]))
        for account in self:
            account.template_count = counts.get(account, 0)

    def action_view_templates(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_template_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_sync_from_meta(self):
        """Bring every message template of the accounts from Meta."""
        return self.env["whatsapp.crm.template"]._action_sync_accounts(self)

    @api.model
    def _cron_sync_templates(self):
        self.env["whatsapp.crm.template"]._cron_sync_accounts()

    # ------------------------------------------------------------------
    # What Meta reports about the account
    # ------------------------------------------------------------------

    def _process_account_update(self, item):
        """``account_update`` and ``phone_number_quality_update`` webhooks."""
        from ..lib import webhook

        self.ensure_one()
        if isinstance(item, webhook.PhoneNumberQualityUpdate):
            self.messaging_limit = item.max_daily_conversations or item.current_limit
            self.quality_rating = item.event
        self.message_post(
            body=self.env._("Meta reported an account event: %(event)s", event=item.event)
        )
        return True

    # ------------------------------------------------------------------
    # Routing: the round-robin turn, shared by every worker
    # ------------------------------------------------------------------

    def _routing_lock(self):
        """Serialise routing on this account across workers.

        The row lock makes a concurrent assignment wait; the update makes one that
        started from an older snapshot fail with a serialization error and be
        retried, so that it counts the conversations assigned meanwhile.
        """
        self.ensure_one()
        self.env.cr.execute(
            "SELECT round_robin_index FROM whatsapp_crm_account WHERE id = %s FOR UPDATE",
            [self.id],
        )
        self.env.cr.execute(
            "UPDATE whatsapp_crm_account SET round_robin_index = round_robin_index "
            "WHERE id = %s",
            [self.id],
        )

    def _routing_round_robin_index(self):
        """The current turn; the row is locked by ``_routing_lock`` already."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT round_robin_index FROM whatsapp_crm_account WHERE id = %s FOR UPDATE",
            [self.id],
        )
        return self.env.cr.fetchone()[0] or 0

    def _routing_set_round_robin_index(self, index):
        self.ensure_one()
        self.env.cr.execute(
            "UPDATE whatsapp_crm_account SET round_robin_index = %s WHERE id = %s",
            [index, self.id],
        )
        self.invalidate_recordset(["round_robin_index"])
