import json
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import template_authoring, templates
from ..lib.errors import CloudApiError

_logger = logging.getLogger(__name__)

TEMPLATE_STATUSES = [
    ("draft", "Draft"),
    ("pending", "Pending Review"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("paused", "Paused"),
    ("disabled", "Disabled"),
    ("in_appeal", "In Appeal"),
    ("flagged", "Flagged"),
    ("limit_exceeded", "Limit Exceeded"),
    ("locked", "Locked"),
    ("archived", "Archived"),
    ("pending_deletion", "Pending Deletion"),
    ("deleted", "Deleted"),
]
# Meta's statuses and status-update events that are not a status name of their own.
META_STATUS_ALIASES = {"REINSTATED": "approved", "UNARCHIVED": "approved"}
QUALITIES = [("green", "Green"), ("yellow", "Yellow"), ("red", "Red"), ("unknown", "Unknown")]
CATEGORIES = [("marketing", "Marketing"), ("utility", "Utility"),
              ("authentication", "Authentication")]
HEADER_TYPES = [("none", "None"), ("text", "Text"), ("image", "Image"), ("video", "Video"),
                ("document", "Document"), ("location", "Location")]
AUTHORING_FIELDS = ("header_type", "header_text", "body", "footer", "button_ids")

PAGE_SIZE_PARAM = "whatsapp_crm.template_page_size"
DEFAULT_PAGE_SIZE = 100


def meta_status(value):
    """Meta's status or event name -> our status value; None when unknown."""
    value = str(value or "").upper()
    status = META_STATUS_ALIASES.get(value, value.lower())
    return status if status in dict(TEMPLATE_STATUSES) else None


class WhatsappCrmTemplate(models.Model):
    _name = "whatsapp.crm.template"
    _description = "WhatsApp Message Template"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "account_id, name, language, id"
    _rec_names_search = ["name", "label"]

    name = fields.Char(
        string="Meta Name", required=True, tracking=True,
        help="Lowercase letters, digits and underscores, as Meta knows the template.",
    )
    label = fields.Char(string="Display Label", help="How salespeople see the template.")
    active = fields.Boolean(default=True)
    account_id = fields.Many2one(
        "whatsapp.crm.account", required=True, index=True, ondelete="cascade", tracking=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    language = fields.Char(required=True, default="en_US", tracking=True)
    category = fields.Selection(CATEGORIES, required=True, default="utility", tracking=True)
    status = fields.Selection(
        TEMPLATE_STATUSES, required=True, default="draft", tracking=True, copy=False
    )
    quality = fields.Selection(QUALITIES, default="unknown", tracking=True, copy=False)
    meta_template_id = fields.Char(string="Meta Template ID", index=True, copy=False,
                                   readonly=True)
    parameter_format = fields.Selection(
        [("positional", "Positional"), ("named", "Named")],
        compute="_compute_parameter_format", store=True,
    )
    components = fields.Json(copy=True, help="The template as Meta stores it.")
    components_text = fields.Text(string="Components (JSON)", compute="_compute_preview")
    preview = fields.Text(compute="_compute_preview")
    header_type = fields.Selection(HEADER_TYPES, default="none", required=True)
    header_text = fields.Char()
    body = fields.Text()
    footer = fields.Char()
    button_ids = fields.One2many("whatsapp.crm.template.button", "template_id", copy=True)
    variable_ids = fields.One2many("whatsapp.crm.template.variable", "template_id", copy=True)
    model_id = fields.Many2one(
        "ir.model", string="Applies To", ondelete="cascade",
        default=lambda self: self.env["ir.model"]._get_id("crm.lead"),
        domain=[("transient", "=", False), ("field_id.name", "in", ("phone", "phone_sanitized"))],
        help="The kind of record this template is sent from; variables read its fields.",
    )
    model = fields.Char(related="model_id.model")
    rejection_reason = fields.Text(readonly=True, copy=False)
    last_synced_at = fields.Datetime(readonly=True, copy=False)
    user_id = fields.Many2one(
        "res.users", string="Owner", default=lambda self: self.env.user, tracking=True,
        help="Gets an activity when Meta rejects, pauses or disables the template.",
    )

    _account_name_language_uniq = models.Constraint(
        "UNIQUE(account_id, name, language)",
        "A template with this name and language already exists on this WhatsApp account.",
    )

    @api.depends("components")
    def _compute_parameter_format(self):
        for template in self:
            template.parameter_format = templates.parameter_format(template.components or [])

    @api.depends("components", "status", "variable_ids.example", *AUTHORING_FIELDS,
                 "button_ids.type", "button_ids.text", "button_ids.url", "button_ids.example")
    def _compute_preview(self):
        for template in self:
            components = template._current_components()
            examples = {v.key: v.example for v in template.variable_ids if v.example}
            template.preview = templates.render_preview(components, examples)
            template.components_text = json.dumps(components, indent=2, ensure_ascii=False)

    @api.depends("name", "label", "language")
    def _compute_display_name(self):
        for template in self:
            template.display_name = f"{template.label or template.name} ({template.language})"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("language"):
                vals["language"] = template_authoring.normalize_language(vals["language"])
        records = super().create(vals_list)
        records._sync_variables()
        return records

    def write(self, vals):
        if vals.get("language"):
            vals["language"] = template_authoring.normalize_language(vals["language"])
        result = super().write(vals)
        if "components" in vals or any(name in vals for name in AUTHORING_FIELDS):
            self._sync_variables()
        return result

    # ------------------------------------------------------------------
    # Components and variables
    # ------------------------------------------------------------------

    def _current_components(self):
        """Drafts are authored in Odoo's fields; Meta's components rule afterwards."""
        self.ensure_one()
        if self.status != "draft":
            return self.components or []
        examples = {v.key: v.example for v in self.variable_ids if v.example}
        return template_authoring.compose_components(
            header_type=self.header_type,
            header_text=self.header_text,
            body=self.body,
            footer=self.footer,
            buttons=[{
                "type": button.type,
                "text": button.text,
                "url": button.url,
                "phone_number": button.phone_number,
                "example": button.example or examples.get(f"button:{index}"),
            } for index, button in enumerate(self.button_ids)],
            examples=examples,
        )

    def _sync_variables(self):
        """One variable per parameter of the template; existing mappings are kept."""
        Variable = self.env["whatsapp.crm.template.variable"]
        for template in self:
            components = template._current_components()
            wanted = Variable._expected_variables(components)
            existing = {v.key: v for v in template.variable_ids}
            stale = template.variable_ids.filtered(lambda v, keys=wanted: v.key not in keys)
            stale.unlink()
            Variable.create([
                {**values, "template_id": template.id}
                for key, values in wanted.items() if key not in existing
            ])

    def _values_from_authoring(self, components):
        """Authoring fields (and missing variable examples) read back from ``components``."""
        fields_ = template_authoring.split_components(components)
        return {
            "header_type": fields_["header_type"],
            "header_text": fields_["header_text"],
            "body": fields_["body"],
            "footer": fields_["footer"],
            "button_ids": [(5, 0, 0)] + [(0, 0, {
                "type": button["type"] if button["type"] in dict(
                    self.env["whatsapp.crm.template.button"]._fields["type"].selection)
                else "quick_reply",
                "text": button["text"],
                "url": button["url"],
                "phone_number": button["phone_number"],
                "example": button["example"],
            }) for button in fields_["buttons"]],
        }, fields_["examples"]

    # ------------------------------------------------------------------
    # Sending helpers (used by the composer)
    # ------------------------------------------------------------------

    def _check_sendable(self, partner=None):
        """Raise a UserError a salesperson understands when this template can't be sent."""
        self.ensure_one()
        name = self.display_name
        reasons = {
            "draft": self.env._("The template %(name)s has not been submitted to Meta yet."),
            "pending": self.env._("The template %(name)s is still waiting for Meta's approval."),
            "rejected": self.env._("Meta rejected the template %(name)s; ask a manager to fix "
                                   "it."),
            "paused": self.env._("Meta paused the template %(name)s because customers gave "
                                 "negative feedback; try again later or use another template."),
            "disabled": self.env._("Meta disabled the template %(name)s after repeated "
                                   "negative feedback; use another template."),
        }
        if self.status != "approved":
            reason = reasons.get(self.status) or self.env._(
                "The template %(name)s can't be sent while its status is %(status)s.")
            status = dict(self._fields["status"]._description_selection(self.env))[self.status]
            raise UserError(reason % {"name": name, "status": status})
        if self.quality == "red":
            raise UserError(self.env._(
                "The template %(name)s has a low quality rating from Meta; use another "
                "template so that the number is not restricted.", name=name))
        if partner is not None and not (partner.phone_sanitized or partner.phone):
            raise UserError(self.env._(
                "%(partner)s has no phone number to send %(name)s to.",
                partner=partner.display_name, name=name))
        return True

    def _render_values(self, record):
        """Placeholder key -> text for ``record``, following each variable's field path."""
        self.ensure_one()
        if self.model and record._name != self.model:
            raise UserError(self.env._(
                "The template %(name)s is meant for %(model)s records.",
                name=self.display_name, model=self.model_id.name))
        return {variable.key: variable._resolve(record) for variable in self.variable_ids}

    def _send_components(self, record, header_media=None):
        """Meta's send-time components for ``record``; a UserError names a missing value."""
        self.ensure_one()
        try:
            return templates.build_send_components(
                self.components or [], self._render_values(record), header_media=header_media
            )
        except ValueError as error:
            raise UserError(self.env._(
                "The template %(name)s can't be filled for %(record)s: %(error)s",
                name=self.display_name, record=record.display_name, error=error,
            )) from error

    def _preview(self, record):
        self.ensure_one()
        return templates.render_preview(self._current_components(), self._render_values(record))

    # ------------------------------------------------------------------
    # What goes to and comes from Meta: submission, sync and status webhooks
    # ------------------------------------------------------------------

    def _translate_problem(self, problem):
        if not isinstance(problem, templates.Problem):
            return str(problem)
        params = {key: self._translate_problem(value) if isinstance(value, templates.Problem)
                  else value for key, value in problem.params.items()}
        return self.env._(problem.message, **params)

    def action_submit(self):
        """Validate like Meta, then create the template on Meta: it becomes pending."""
        for template in self:
            if template.status != "draft":
                raise UserError(self.env._(
                    "Only draft templates can be submitted; %(name)s is %(status)s.",
                    name=template.display_name,
                    status=dict(template._fields["status"]._description_selection(self.env))[
                        template.status],
                ))
            template._sync_variables()
            components = template._current_components()
            problems = templates.validate_template(
                template.name, template.language, template.category.upper(), components
            )
            if problems:
                raise UserError(self.env._(
                    "Meta would refuse the template %(name)s:\n%(problems)s",
                    name=template.display_name,
                    problems="\n".join(f"• {template._translate_problem(p)}" for p in problems),
                ))
            client = template.account_id._get_client()
            try:
                result = client.create_template(
                    template.name, template.language, template.category.upper(), components,
                    parameter_format=templates.parameter_format(components),
                )
            except CloudApiError as error:
                raise UserError(self.env._(
                    "Meta refused the template %(name)s: %(error)s",
                    name=template.display_name, error=error,
                )) from error
            template.write({
                "components": components,
                "meta_template_id": str(result.get("id") or ""),
                "status": meta_status(result.get("status")) or "pending",
                "rejection_reason": False,
            })
        return True

    def action_sync_from_meta(self):
        self.account_id.action_sync_from_meta()
        return True

    # ------------------------------------------------------------------
    # Meta's webhooks
    # ------------------------------------------------------------------

    @api.model
    def _find_for_item(self, item, account):
        domain = [("account_id", "=", account.id)]
        if item.template_id:
            found = self.with_context(active_test=False).search(
                domain + [("meta_template_id", "=", item.template_id)], limit=1)
            if found:
                return found
        language = template_authoring.normalize_language(item.language)
        return self.with_context(active_test=False).search(
            domain + [("name", "=", item.name), ("language", "=", language)], limit=1)

    @api.model
    def _process_meta_update(self, item, account):
        """Apply a template status, quality or category webhook; unknown ones sync first."""
        template = self._find_for_item(item, account)
        if not template:
            # Created on Meta's side (or before this database): fetch them all. A failure
            # leaves the event in error, and the retry job tries again.
            self._sync_account(account)
            template = self._find_for_item(item, account)
            if not template:
                return False
        changes, note, alert = template._changes_for_item(item)
        if changes:
            template.write(changes)
        template.message_post(body=note, subtype_xmlid="mail.mt_note")
        if alert:
            template.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=alert,
                note=note,
                user_id=(template.user_id or self.env.ref("base.user_admin")).id,
            )
        return True

    def _changes_for_item(self, item):
        """(values to write, chatter note, activity summary or None) for one webhook item."""
        self.ensure_one()
        from ..lib import webhook

        if isinstance(item, webhook.TemplateQualityUpdate):
            quality = str(item.new_quality or "unknown").lower()
            quality = quality if quality in dict(QUALITIES) else "unknown"
            note = self.env._("Meta rated the template quality %(quality)s (was %(previous)s).",
                              quality=item.new_quality, previous=item.previous_quality or "-")
            alert = self.env._("Template quality is red") if quality == "red" else None
            return {"quality": quality}, note, alert
        if isinstance(item, webhook.TemplateCategoryUpdate):
            category = str(item.new_category or item.correct_category or "").lower()
            note = self.env._("Meta re-categorised the template from %(old)s to %(new)s.",
                              old=item.previous_category or "-", new=category or "-")
            changes = {"category": category} if category in dict(CATEGORIES) else {}
            return changes, note, self.env._("Template re-categorised by Meta")
        status = meta_status(item.event)
        changes = {"status": status} if status else {}
        if item.category and item.category.lower() in dict(CATEGORIES):
            changes["category"] = item.category.lower()
        details = [d for d in (item.reason if item.reason != "NONE" else None,
                               item.rejection_reason, item.rejection_recommendation,
                               item.other_info_description) if d]
        if status == "rejected":
            changes["rejection_reason"] = "\n".join(details) or False
        elif status == "approved":
            changes["rejection_reason"] = False
        note = Markup("%s<br/>%s") % (
            self.env._("Meta reported the template event %(event)s.", event=item.event),
            "; ".join(details),
        ) if details else self.env._("Meta reported the template event %(event)s.",
                                     event=item.event)
        alerts = {
            "rejected": self.env._("Template rejected by Meta"),
            "paused": self.env._("Template paused by Meta"),
            "disabled": self.env._("Template disabled by Meta"),
        }
        return changes, note, alerts.get(status)

    @api.model
    def _action_sync_accounts(self, accounts):
        """The accounts' Sync Templates button: a Meta error becomes a UserError."""
        for account in accounts:
            try:
                self._sync_account(account)
            except CloudApiError as error:
                raise UserError(self.env._(
                    "The templates of %(account)s could not be fetched from Meta: %(error)s",
                    account=account.name, error=error)) from error
        return True

    @api.model
    def _cron_sync_accounts(self):
        for account in self.env["whatsapp.crm.account"].search([("waba_id", "!=", False)]):
            try:
                with self.env.cr.savepoint():
                    self._sync_account(account)
            except (CloudApiError, UserError) as error:
                _logger.warning("WhatsApp account %s: template sync failed: %s",
                                account.id, error)

    @api.model
    def _sync_account(self, account):
        """Create or update the account's templates from Meta's list (all pages).

        Variable mappings of existing templates are kept; templates Meta no longer
        lists are marked deleted.
        """
        Template = self.sudo().with_context(active_test=False)
        page_size = int(self.env["ir.config_parameter"].sudo().get_param(
            PAGE_SIZE_PARAM, DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE)
        remote = account._get_client().list_templates(limit=page_size)
        now = fields.Datetime.now()
        existing = Template.search([("account_id", "=", account.id)])
        by_meta_id = {t.meta_template_id: t for t in existing if t.meta_template_id}
        by_key = {(t.name, t.language): t for t in existing}
        synced = Template
        for item in remote:
            name = item.get("name")
            language = template_authoring.normalize_language(item.get("language"))
            if not name or not language:
                continue
            template = by_meta_id.get(str(item.get("id"))) or by_key.get((name, language))
            values, examples = Template._values_from_authoring(item.get("components") or [])
            values.update(self._values_from_meta(item, template), last_synced_at=now)
            if template:
                template.write(values)
            else:
                template = Template.create({**values, "account_id": account.id})
            for variable in template.variable_ids.filtered(lambda v: not v.example):
                variable.example = examples.get(variable.key) or False
            synced |= template
        gone = existing.filtered(lambda t: t.meta_template_id and t not in synced
                                 and t.status != "deleted")
        gone.write({"status": "deleted", "last_synced_at": now})
        return synced

    @api.model
    def _values_from_meta(self, item, template):
        category = str(item.get("category") or "").lower()
        quality = str((item.get("quality_score") or {}).get("score") or "unknown").lower()
        reason = item.get("rejected_reason")
        values = {
            "name": item["name"],
            "language": template_authoring.normalize_language(item.get("language")),
            "meta_template_id": str(item.get("id") or "") or False,
            "components": item.get("components") or [],
            "status": meta_status(item.get("status")) or (template.status if template
                                                         else "pending"),
            "quality": quality if quality in dict(QUALITIES) else "unknown",
        }
        if reason and reason != "NONE":
            values["rejection_reason"] = reason
        elif values["status"] != "rejected":
            values["rejection_reason"] = False
        if category in dict(CATEGORIES):
            values["category"] = category
        return values
