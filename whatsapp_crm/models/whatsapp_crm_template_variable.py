from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools.misc import format_date, format_datetime

from ..lib import templates

LOCATIONS = [("header", "Header"), ("body", "Body"), ("button", "Button")]


class WhatsappCrmTemplateVariable(models.Model):
    _name = "whatsapp.crm.template.variable"
    _description = "WhatsApp Template Variable"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one(
        "whatsapp.crm.template", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    location = fields.Selection(LOCATIONS, required=True, default="body")
    placeholder = fields.Char(required=True, help="The name between braces: 1 for {{1}}.")
    button_index = fields.Integer(help="Position of the button, from 0.")
    key = fields.Char(compute="_compute_key", store=True)
    model = fields.Char(related="template_id.model")
    field_path = fields.Char(
        help="Field of the record to send, e.g. partner_id.name. Alternatives separated by | "
        "are tried in turn; a quoted text is a fixed fallback: partner_id.name|name|'Customer'.",
    )
    example = fields.Char(help="Sample value shown to Meta's reviewers.")

    _template_key_uniq = models.Constraint(
        "UNIQUE(template_id, key)", "A template parameter can only be mapped once."
    )

    @api.depends("location", "placeholder", "button_index")
    def _compute_key(self):
        for variable in self:
            if variable.location == "button":
                variable.key = f"button:{variable.button_index}"
            elif variable.location == "header":
                variable.key = f"header:{variable.placeholder}"
            else:
                variable.key = variable.placeholder

    @api.depends("key", "field_path")
    def _compute_display_name(self):
        for variable in self:
            variable.display_name = f"{{{{{variable.key}}}}}"

    @api.model
    def _expected_variables(self, components):
        """key -> values of one variable per parameter of Meta's ``components``."""
        expected = {}
        header = templates.component_of(components, "HEADER") or {}
        if templates.upper_text(header.get("format")) == "TEXT":
            for name in templates.placeholders(header.get("text")):
                expected[f"header:{name}"] = {"location": "header", "placeholder": name}
        body = templates.component_of(components, "BODY") or {}
        for name in templates.placeholders(body.get("text")):
            expected[name] = {"location": "body", "placeholder": name}
        for index, button in enumerate(templates.buttons_of(components)):
            kind = templates.upper_text(button.get("type"))
            if kind == "COPY_CODE" or (kind == "URL" and templates.placeholders(button.get("url"))):
                expected[f"button:{index}"] = {
                    "location": "button", "placeholder": "1", "button_index": index}
        for sequence, values in enumerate(expected.values(), start=1):
            values["sequence"] = sequence
        return expected

    def _resolve(self, record):
        """Text for ``record``: the first alternative of the field path that has a value."""
        self.ensure_one()
        for alternative in (self.field_path or "").split("|"):
            alternative = alternative.strip()
            if len(alternative) >= 2 and alternative[0] in "'\"" \
                    and alternative[-1] == alternative[0]:
                return alternative[1:-1]
            value = self._read_path(record[:1], alternative) if alternative else ""
            if value:
                return value
        return ""

    def _read_path(self, record, path):
        """The value at ``path`` (dotted field names) as text; '' when absent or not readable.

        Only fields are followed, never methods, and only those the current user may read.
        """
        names = path.split(".")
        current = record
        for position, name in enumerate(names):
            field = current._fields.get(name)
            if not current or field is None:
                return ""
            try:
                if not current.has_access("read") or not current._has_field_access(field, "read"):
                    return ""
                value = current[name]
            except AccessError:
                return ""
            last = position == len(names) - 1
            if field.relational:
                current = value[:1]
                if last:
                    return current.display_name or "" if current else ""
            elif not last:
                return ""
            else:
                return self._format_value(current, field, value)
        return ""

    def _format_value(self, record, field, value):
        if value is False or value is None:
            return ""
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        if field.type == "datetime":
            return format_datetime(self.env, value)
        if field.type == "date":
            return format_date(self.env, value)
        return str(value)
