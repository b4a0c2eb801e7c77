import json

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import template_authoring, templates

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
