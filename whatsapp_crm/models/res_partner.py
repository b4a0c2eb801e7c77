import json
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.fields import Domain

from ..lib import consent, phone
from .whatsapp_crm_consent_log import CONSENT_SOURCES, CONSENT_STATES

_logger = logging.getLogger(__name__)

OPT_OUT_ERROR_CODE = 131050
CONSENT_FIELDS = (
    "whatsapp_opt_in",
    "whatsapp_opt_in_date",
    "whatsapp_opt_in_source",
    "whatsapp_opt_in_proof",
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    whatsapp_wa_id = fields.Char(
        string="WhatsApp ID",
        index="btree_not_null",
        copy=False,
        help="The number WhatsApp reported for this contact (digits, no +).",
    )
    whatsapp_bsuid = fields.Char(
        string="WhatsApp Business-Scoped User ID",
        index="btree_not_null",
        copy=False,
        help="The id WhatsApp gives this person for our business portfolio; the only one "
        "of a person who uses a username and withholds their number.",
    )
    whatsapp_conversation_ids = fields.One2many("whatsapp.crm.conversation", "partner_id")
    whatsapp_conversation_count = fields.Integer(compute="_compute_whatsapp_window")
    whatsapp_window_expires_at = fields.Datetime(compute="_compute_whatsapp_window")
    whatsapp_window_state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("none", "No Conversation")],
        string="WhatsApp Window",
        compute="_compute_whatsapp_window",
    )

    @api.depends("whatsapp_conversation_ids.window_expires_at")
    def _compute_whatsapp_window(self):
        conversations = self.env["whatsapp.crm.conversation"].search(
            [("partner_id", "in", self.ids)]
        )
        for partner in self:
            mine = conversations.filtered(lambda c, p=partner: c.partner_id == p)
            partner.update(mine._window_summary())

    @api.model
    def _whatsapp_find(self, wa_id, account, bsuid=None):
        """The contact behind a WhatsApp number, tolerant of national quirks, or behind
        a business-scoped user id, in one search: the contact with that BSUID, else the
        oldest whose phone or reported WhatsApp number is one of the number's forms."""
        conditions = []
        if bsuid:
            conditions.append([("whatsapp_bsuid", "=", bsuid)])
        if wa_id and wa_id.isdigit():
            e164 = phone.e164_variants(wa_id)
            conditions += [[("phone_sanitized", "in", e164)],
                           [("phone_mobile_search", "in", e164)],
                           [("whatsapp_wa_id", "in", phone.wa_id_variants(wa_id))]]
        if not conditions:
            return self.browse()
        candidates = self.search(
            Domain.OR(conditions) & Domain("company_id", "in", [False, account.company_id.id]),
            order="id", limit=20,
        )
        by_bsuid = candidates.filtered(lambda p: bsuid and p.whatsapp_bsuid == bsuid)
        return (by_bsuid or candidates)[:1]

    @api.model
    def _whatsapp_find_or_create(self, wa_id, profile_name, account, bsuid=None,
                                 username=None):
        wa_id = wa_id if wa_id and wa_id.isdigit() else False
        partner = self._whatsapp_find(wa_id, account, bsuid=bsuid)
        if partner:
            partner._whatsapp_learn_identity(wa_id, bsuid)
            return partner
        number = f"+{wa_id}" if wa_id else False
        return self.create(
            {
                "name": profile_name or number or username or bsuid,
                "phone": number,
                "whatsapp_wa_id": wa_id,
                "whatsapp_bsuid": bsuid or False,
                "company_id": account.company_id.id,
            }
        )

    def _whatsapp_learn_identity(self, wa_id=None, bsuid=None):
        """Keep the ids WhatsApp gave: a first number, a first or new BSUID."""
        for partner in self:
            values = {}
            if wa_id and not partner.whatsapp_wa_id:
                values["whatsapp_wa_id"] = wa_id
            if bsuid and partner.whatsapp_bsuid != bsuid:
                values["whatsapp_bsuid"] = bsuid
            if values:
                partner.write(values)

    def action_view_whatsapp_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_crm.whatsapp_crm_conversation_action"
        )
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        return action

    # ------------------------------------------------------------------
    # Marketing consent
    # ------------------------------------------------------------------

    whatsapp_opt_in = fields.Selection(
        CONSENT_STATES,
        string="WhatsApp Marketing",
        default="unknown",
        copy=False,
        tracking=True,
        help="Marketing templates are only sent to contacts who opted in.",
    )
    whatsapp_opt_in_date = fields.Datetime(string="WhatsApp Consent Date", copy=False)
    whatsapp_opt_in_source = fields.Selection(
        CONSENT_SOURCES, string="WhatsApp Consent Source", copy=False
    )
    whatsapp_opt_in_proof = fields.Text(string="WhatsApp Consent Proof", copy=False)
    whatsapp_consent_log_ids = fields.One2many(
        "whatsapp.crm.consent.log", "partner_id", string="WhatsApp Consent History"
    )

    # ------------------------------------------------------------------
    # The single door
    # ------------------------------------------------------------------

    def _whatsapp_set_consent(self, state, source, proof=None, message=None):
        """Record a consent change: fields, history line and chatter note.

        Nothing happens for a contact whose consent is already ``state``.
        Returns the contacts that changed.
        """
        if state not in dict(CONSENT_STATES) or source not in dict(CONSENT_SOURCES):
            raise ValueError(f"Unknown WhatsApp consent {state!r} or source {source!r}")
        changed = self.filtered(lambda p: (p.whatsapp_opt_in or "unknown") != state)
        if not changed:
            return changed
        changed.check_access("write")
        now = fields.Datetime.now()
        Log = self.env["whatsapp.crm.consent.log"]
        for partner in changed:
            previous = partner.whatsapp_opt_in or "unknown"
            partner.with_context(whatsapp_consent_door=True).write(
                {
                    "whatsapp_opt_in": state,
                    "whatsapp_opt_in_date": now,
                    "whatsapp_opt_in_source": source,
                    "whatsapp_opt_in_proof": proof or False,
                }
            )
            Log._record(partner, state, previous, source, proof=proof, message=message)
            partner.sudo()._message_log(body=partner._whatsapp_consent_note(state, source, proof))
        return changed

    def _whatsapp_consent_note(self, state, source, proof):
        values = {
            "state": dict(self._fields["whatsapp_opt_in"]._description_selection(self.env))[state],
            "how": dict(
                self._fields["whatsapp_opt_in_source"]._description_selection(self.env)
            )[source],
        }
        if source in ("inbound_keyword", "meta_error") and proof:
            values["proof"] = proof[:120]
            text = self.env._(
                "WhatsApp marketing consent: %(state)s (%(how)s: “%(proof)s”).", **values
            )
        else:
            text = self.env._("WhatsApp marketing consent: %(state)s (%(how)s).", **values)
        return Markup("<p>%s</p>") % text

    def _whatsapp_can_receive_marketing(self):
        """Marketing templates need an explicit opt-in; an empty value means unknown.

        https://developers.facebook.com/docs/whatsapp/overview/getting-opt-in
        """
        self.ensure_one()
        return self.whatsapp_opt_in == "opted_in"

    # Anything writing the state outside the door still goes through it.
    @api.model_create_multi
    def create(self, vals_list):
        states = [vals.pop("whatsapp_opt_in", None) for vals in vals_list]
        extras = [
            (vals.pop("whatsapp_opt_in_source", None), vals.pop("whatsapp_opt_in_proof", None))
            for vals in vals_list
        ]
        for vals in vals_list:
            vals.pop("whatsapp_opt_in_date", None)
        partners = super().create(vals_list)
        for partner, state, (source, proof) in zip(partners, states, extras, strict=True):
            if state and state != "unknown":
                partner._whatsapp_set_consent(state, source or self._whatsapp_default_source(),
                                              proof=proof)
        return partners

    def write(self, vals):
        if "whatsapp_opt_in" not in vals or self.env.context.get("whatsapp_consent_door"):
            return super().write(vals)
        vals = dict(vals)
        state = vals.pop("whatsapp_opt_in")
        source = vals.pop("whatsapp_opt_in_source", None) or self._whatsapp_default_source()
        proof = vals.pop("whatsapp_opt_in_proof", None)
        vals.pop("whatsapp_opt_in_date", None)
        result = super().write(vals) if vals else True
        self._whatsapp_set_consent(state, source, proof=proof)
        return result

    @api.model
    def _whatsapp_default_source(self):
        return "import" if self.env.context.get("import_file") else "manual"

    def action_whatsapp_opt_in(self):
        self._whatsapp_set_consent("opted_in", "manual")
        return True

    def action_whatsapp_opt_out(self):
        self._whatsapp_set_consent("opted_out", "manual")
        return True

    # ------------------------------------------------------------------
    # What Meta reports
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_process_user_preference(self, item, account):
        """``user_preferences`` webhook: the customer stopped or resumed marketing."""
        state = consent.preference_state(item.category, item.value)
        partner = self._whatsapp_preference_partner(item, account)
        if not state or not partner:
            account._message_log(
                body=self.env._(
                    "WhatsApp marketing preference %(value)s (%(category)s) for %(wa_id)s "
                    "was not applied: %(reason)s",
                    value=item.value or "",
                    category=item.category or "",
                    wa_id=item.wa_id or item.user_id or "",
                    reason=self.env._("unknown contact")
                    if state
                    else self.env._("unknown preference"),
                )
            )
            return True
        partner._whatsapp_set_consent(
            state, "user_preference", proof=json.dumps(item.raw, sort_keys=True)
        )
        return True

    @api.model
    def _whatsapp_preference_partner(self, item, account):
        Partner = self.sudo()
        partner = Partner._whatsapp_find(item.wa_id, account, bsuid=item.user_id)
        if partner:
            return partner
        conversation = self.env["whatsapp.crm.conversation"].sudo()._find_for_sender(
            account, item.wa_id, item.user_id
        )
        return conversation.partner_id

    @api.model
    def _whatsapp_record_meta_opt_out(self, message, error):
        """For the sender: Meta refused ``message`` with 131050 (user stopped marketing).

        ``error`` is a CloudApiError, a webhook error or a dict with code/title/message.
        Returns the contact that changed, if any.
        """
        code, text = _error_code_and_text(error)
        if code is not None and code != OPT_OUT_ERROR_CODE:
            return self.browse()
        partner = message.partner_id.sudo()
        if not partner:
            _logger.info("WhatsApp opt-out error on message %s without a contact", message.id)
            return self.browse()
        proof = f"{OPT_OUT_ERROR_CODE}: {text}" if text else str(OPT_OUT_ERROR_CODE)
        return partner._whatsapp_set_consent("opted_out", "meta_error", proof=proof,
                                             message=message)

def _error_code_and_text(error):
    if isinstance(error, dict):
        get = error.get
    else:
        def get(key):
            return getattr(error, key, None)
    code = get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    text = " — ".join(
        dict.fromkeys(str(get(key)) for key in ("title", "message", "details") if get(key))
    )
    return code, text
