"""Authoring WhatsApp templates in Odoo: simple fields <-> Meta's ``components``.

Plain data in, plain data out: no Odoo here; see templates.py for the rules.
"""

from __future__ import annotations

from .templates import (
    HEADER_FORMATS,
    buttons_of,
    component_of,
    example_values,
    first_value,
    parameter_format,
    placeholders,
    upper_text,
)


def compose_components(*, header_type=None, header_text=None, body=None, footer=None,
                       buttons=(), examples=None):
    """Meta's ``components`` from simple authoring fields.

    ``header_type`` is none/text/image/video/document/location; ``buttons`` are
    dicts with type (quick_reply, url, phone_number, copy_code), text, url,
    phone_number and example; ``examples`` maps placeholder keys (see the module
    docstring) to their example values.
    """
    examples = {str(k): v for k, v in (examples or {}).items()}
    fmt = parameter_format([{"type": "HEADER", "text": header_text if header_type == "text"
                             else ""}, {"type": "BODY", "text": body}])
    components = []
    if header_type and header_type != "none":
        header = {"type": "HEADER", "format": header_type.upper()}
        if header_type == "text":
            header["text"] = header_text or ""
            _add_examples(header, "header_text", fmt, examples, "header:")
        components.append(header)
    body_component = {"type": "BODY", "text": body or ""}
    _add_examples(body_component, "body_text", fmt, examples)
    components.append(body_component)
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    meta_buttons = [_compose_button(button) for button in buttons or ()]
    if meta_buttons:
        components.append({"type": "BUTTONS", "buttons": meta_buttons})
    return components


def _add_examples(component, key, fmt, examples, prefix=""):
    names = placeholders(component["text"])
    if not names:
        return

    def example_of(name):
        shared = examples.get(name) if fmt == "named" else None
        return str(examples.get(f"{prefix}{name}") or shared or "")

    if fmt == "named":
        component["example"] = {f"{key}_named_params": [
            {"param_name": name, "example": example_of(name)} for name in names]}
    else:
        ordered = [example_of(name) for name in sorted(names, key=int)]
        component["example"] = {key: [ordered] if key == "body_text" else ordered}


def _compose_button(button):
    kind = upper_text(button.get("type"))
    meta = {"type": kind}
    if kind != "COPY_CODE":
        meta["text"] = button.get("text") or ""
    if kind == "URL":
        meta["url"] = button.get("url") or ""
        if placeholders(meta["url"]) and button.get("example"):
            meta["example"] = [button["example"]]
    elif kind == "PHONE_NUMBER":
        meta["phone_number"] = button.get("phone_number") or ""
    elif kind == "COPY_CODE" and button.get("example"):
        meta["example"] = button["example"]
    return meta


def split_components(components):
    """The authoring fields of ``components`` (the inverse of compose_components)."""
    header = component_of(components, "HEADER") or {}
    header_format = upper_text(header.get("format"))
    body = component_of(components, "BODY") or {}
    footer = component_of(components, "FOOTER") or {}
    buttons = []
    for button in buttons_of(components):
        buttons.append({
            "type": upper_text(button.get("type")).lower(),
            "text": button.get("text") or "",
            "url": button.get("url") or "",
            "phone_number": button.get("phone_number") or "",
            "example": first_value(button.get("example")),
        })
    return {
        "header_type": header_format.lower() if header_format in HEADER_FORMATS else "none",
        "header_text": header.get("text") or "" if header_format == "TEXT" else "",
        "body": body.get("text") or "",
        "footer": footer.get("text") or "",
        "buttons": buttons,
        "examples": {**{f"header:{k}": v for k, v in example_values(
            header, "header_text", parameter_format(components)).items()},
            **example_values(body, "body_text", parameter_format(components))},
    }


def normalize_language(code) -> str:
    """'en-US' / 'en_us' -> 'en_US'; 'pt' stays 'pt'."""
    parts = str(code or "").strip().replace("-", "_").split("_")
    if not parts[0]:
        return ""
    head, *rest = parts
    return "_".join([head.lower(), *(p.upper() if len(p) == 2 else p for p in rest)])
