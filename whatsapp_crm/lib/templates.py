"""WhatsApp message templates: Meta's authoring rules, send-time components, previews.

Plain data in, plain data out: no Odoo here. ``components`` always has Meta's
shape (``[{"type": "BODY", "text": ...}, {"type": "BUTTONS", "buttons": [...]}]``).

Send-time values are keyed by placeholder: a body placeholder by its own name
(``"1"``, ``"first_name"``), a header one by ``"header:<name>"`` (in named
templates a bare name also fills the header, a name meaning one value), and the
variable part of button ``i`` (URL suffix, coupon code) by ``"button:<i>"`` or
in ``button_values``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
NAMED_PLACEHOLDER_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE")

BODY_MAX, HEADER_MAX, FOOTER_MAX = 1024, 60, 60
BUTTONS_MAX, BUTTON_LABEL_MAX, URL_MAX, COPY_CODE_MAX = 10, 25, 2000, 15
BUTTON_LIMITS = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
# Meta refuses bodies whose parameters are too dense for their length (2388293)
# without publishing the formula. Rule of thumb used here: the fixed text around
# the parameters needs at least 2 words per parameter, plus one.
WORDS_PER_PARAMETER = 2


def _lt(message: str) -> str:
    """Marks a message for Odoo's translation extraction; Odoo translates Problems."""
    return message


class Problem(str):
    """A problem's English text; ``message`` and ``params`` let a caller translate it."""

    def __new__(cls, message: str, **params):
        problem = super().__new__(cls, message % params if params else message)
        problem.message = message
        problem.params = params
        return problem


def placeholders(text: str | None) -> list[str]:
    """Distinct placeholder names of ``text``, in order of first appearance."""
    seen: list[str] = []
    for match in PLACEHOLDER_RE.finditer(text or ""):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def upper_text(value) -> str:
    return str(value or "").upper()


def component_of(components, ctype: str) -> dict | None:
    for component in components or []:
        if isinstance(component, dict) and upper_text(component.get("type")) == ctype:
            return component
    return None


def buttons_of(components) -> list[dict]:
    component = component_of(components, "BUTTONS") or {}
    return [b for b in component.get("buttons") or [] if isinstance(b, dict)]


def parameter_format(components) -> str:
    """'named' when any header or body placeholder is not a number, else 'positional'."""
    for ctype in ("HEADER", "BODY"):
        component = component_of(components, ctype) or {}
        if any(not name.isdigit() for name in placeholders(component.get("text"))):
            return "named"
    return "positional"


def example_values(component: dict, key: str, fmt: str) -> dict[str, str]:
    """The example of each placeholder of a header (``header_text``) or body."""
    example = component.get("example") if isinstance(component.get("example"), dict) else {}
    if fmt == "named":
        given = example.get(f"{key}_named_params") or []
        return {str(p.get("param_name")): str(p.get("example") or "")
                for p in given if isinstance(p, dict)}
    given = example.get(key) or []
    if given and isinstance(given[0], list):  # body_text is a list of lists
        given = given[0]
    return {str(i): str(v or "") for i, v in enumerate(given, start=1)}


def _check_text(problems, text, where, fmt, limit, max_params=None, example_key=None,
                component=None):
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem(_lt("%(where)s: the text is required."), where=where))
        return []
    if len(text) > limit:
        problems.append(Problem(_lt("%(where)s: the text has %(count)s characters, at most "
                                  "%(limit)s allowed."), where=where, count=len(text), limit=limit))
    names = placeholders(text)
    if max_params is not None and len(names) > max_params:
        problems.append(Problem(_lt("%(where)s: at most %(limit)s parameter(s) allowed, found "
                                  "%(count)s."), where=where, limit=max_params, count=len(names)))
    if fmt == "named":
        bad = [n for n in names if not NAMED_PLACEHOLDER_RE.match(n)]
        if bad:
            problems.append(Problem(_lt("%(where)s: named parameters must be lowercase letters, "
                                      "digits and underscores, starting with a letter: "
                                      "%(names)s."), where=where, names=", ".join(bad)))
    else:
        numbers = sorted(int(n) for n in names if n.isdigit())
        if len(numbers) != len(names) or numbers != list(range(1, len(names) + 1)):
            problems.append(Problem(_lt("%(where)s: positional parameters must be {{1}} to "
                                      "{{%(count)s}} without gaps."),
                                    where=where, count=len(names)))
    if names and example_key:
        examples = example_values(component or {}, example_key, fmt)
        missing = [n for n in names if not examples.get(n)]
        if missing:
            problems.append(Problem(_lt("%(where)s: every parameter needs an example; missing "
                                      "for %(names)s."), where=where, names=", ".join(missing)))
    return names


def _check_body(problems, body, fmt):
    text = body.get("text")
    names = _check_text(problems, text, Problem(_lt("Body")), fmt, BODY_MAX,
                        example_key="body_text", component=body)
    if not names:
        return
    stripped = text.strip()
    if PLACEHOLDER_RE.match(stripped) or re.search(r"\{\{[^{}]*\}\}$", stripped):
        problems.append(Problem(_lt("Body: a parameter cannot start or end the text.")))
    words = len(PLACEHOLDER_RE.sub(" ", text).split())
    needed = WORDS_PER_PARAMETER * len(names) + 1
    if words < needed:
        problems.append(Problem(_lt("Body: too many parameters for the length of the text; "
                                  "%(count)s parameter(s) need at least %(needed)s other words."),
                                count=len(names), needed=needed))


def _check_header(problems, header, fmt, category):
    header_format = upper_text(header.get("format"))
    if header_format not in HEADER_FORMATS:
        problems.append(Problem(_lt("Header: the format must be one of %(formats)s."),
                                formats=", ".join(HEADER_FORMATS)))
    elif header_format == "TEXT":
        _check_text(problems, header.get("text"), Problem(_lt("Header")), fmt, HEADER_MAX,
                    max_params=1, example_key="header_text", component=header)
    elif header_format == "LOCATION" and category == "AUTHENTICATION":
        problems.append(Problem(_lt("Header: a location header is not allowed in authentication "
                                  "templates.")))


def _check_buttons(problems, buttons):
    if not buttons:
        problems.append(Problem(_lt("Buttons: the buttons component has no buttons.")))
        return
    if len(buttons) > BUTTONS_MAX:
        problems.append(Problem(_lt("Buttons: at most %(limit)s buttons allowed, found %(count)s."),
                                limit=BUTTONS_MAX, count=len(buttons)))
    kinds = [upper_text(b.get("type")) for b in buttons]
    for kind, limit in BUTTON_LIMITS.items():
        if kinds.count(kind) > limit:
            problems.append(Problem(_lt("Buttons: at most %(limit)s %(kind)s button(s) allowed."),
                                    limit=limit, kind=kind))
    quick = [i for i, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
    if quick and quick[-1] - quick[0] + 1 != len(quick):
        problems.append(Problem(_lt("Buttons: quick reply buttons must be grouped together.")))
    for index, (button, kind) in enumerate(zip(buttons, kinds, strict=True), start=1):
        where = Problem(_lt("Button %(index)s"), index=index)
        if kind not in BUTTON_TYPES:
            problems.append(Problem(_lt("%(where)s: the type must be one of %(types)s."),
                                    where=where, types=", ".join(BUTTON_TYPES)))
            continue
        label = button.get("text")
        if kind != "COPY_CODE" and (not isinstance(label, str) or not label.strip()):
            problems.append(Problem(_lt("%(where)s: the label is required."), where=where))
        elif isinstance(label, str) and len(label) > BUTTON_LABEL_MAX:
            problems.append(Problem(_lt("%(where)s: the label has %(count)s characters, at most "
                                      "%(limit)s allowed."),
                                    where=where, count=len(label), limit=BUTTON_LABEL_MAX))
        if kind == "URL":
            _check_url_button(problems, button, where)
        elif kind == "PHONE_NUMBER" and not button.get("phone_number"):
            problems.append(Problem(_lt("%(where)s: the phone number is required."), where=where))
        elif kind == "COPY_CODE":
            example = first_value(button.get("example"))
            if not example:
                problems.append(Problem(_lt("%(where)s: the coupon code needs an example."),
                                        where=where))
            elif len(example) > COPY_CODE_MAX:
                problems.append(Problem(_lt("%(where)s: the coupon code has %(count)s characters, "
                                          "at most %(limit)s allowed."),
                                        where=where, count=len(example), limit=COPY_CODE_MAX))


def first_value(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "")


def _check_url_button(problems, button, where):
    url = button.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        problems.append(Problem(_lt("%(where)s: the URL must start with https:// or http://."),
                                where=where))
        return
    if len(url) > URL_MAX:
        problems.append(Problem(_lt("%(where)s: the URL has %(count)s characters, at most "
                                  "%(limit)s allowed."),
                                where=where, count=len(url), limit=URL_MAX))
    found = PLACEHOLDER_RE.findall(url)
    if len(found) > 1 or (found and not re.search(r"\{\{[^{}]*\}\}$", url)):
        problems.append(Problem(_lt("%(where)s: the URL can only have one variable, at its end."),
                                where=where))
    elif found and not first_value(button.get("example")):
        problems.append(Problem(_lt("%(where)s: the URL variable needs an example."), where=where))


def validate_template(name, language, category, components) -> list[str]:
    """Human-readable problems Meta would refuse the template for; [] when none."""
    problems: list[str] = []
    if not isinstance(name, str) or not NAME_RE.match(name):
        problems.append(Problem(_lt("Name: use 1 to 512 lowercase letters, digits and "
                                  "underscores.")))
    if not isinstance(language, str) or not language.strip():
        problems.append(Problem(_lt("Language: the language is required.")))
    category = upper_text(category)
    if category not in CATEGORIES:
        problems.append(Problem(_lt("Category: must be one of %(categories)s."),
                                categories=", ".join(CATEGORIES)))
    if not isinstance(components, list) or not components:
        return [*problems, Problem(_lt("Body: a template needs exactly one body."))]
    counts: dict[str, int] = {}
    for component in components:
        ctype = upper_text(component.get("type")) if isinstance(component, dict) else ""
        counts[ctype] = counts.get(ctype, 0) + 1
        if ctype not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            problems.append(Problem(_lt("Unknown component type %(type)s."),
                                    type=ctype or "(none)"))
    if counts.get("BODY", 0) != 1:
        problems.append(Problem(_lt("Body: a template needs exactly one body.")))
    for ctype in ("HEADER", "FOOTER", "BUTTONS"):
        if counts.get(ctype, 0) > 1:
            problems.append(Problem(_lt("%(component)s: at most one allowed."),
                                    component=ctype.title()))
    fmt = parameter_format(components)
    body = component_of(components, "BODY")
    if body:
        _check_body(problems, body, fmt)
    header = component_of(components, "HEADER")
    if header:
        _check_header(problems, header, fmt, category)
    footer = component_of(components, "FOOTER")
    if footer:
        text = footer.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(_lt("Footer: the text is required.")))
        elif len(text) > FOOTER_MAX:
            problems.append(Problem(_lt("Footer: the text has %(count)s characters, at most "
                                      "%(limit)s allowed."), count=len(text), limit=FOOTER_MAX))
        elif placeholders(text):
            problems.append(Problem(_lt("Footer: parameters are not allowed in the footer.")))
    if component_of(components, "BUTTONS") is not None:
        _check_buttons(problems, buttons_of(components))
    return problems


# ------------------------------------------------------------------ sending


def _value(values: dict, key: str, fallback: str | None = None) -> str:
    value = values.get(key)
    if (value is None or value == "") and fallback is not None:
        value = values.get(fallback)
    if value is None or str(value) == "":
        raise ValueError(f"no value for the template parameter {key}")
    return str(value)


def _text_parameters(text, values, fmt, prefix=""):
    names = placeholders(text)
    if fmt == "positional":
        names = sorted(names, key=int)
    parameters = []
    for name in names:
        shared = name if prefix and fmt == "named" else None
        value = _value(values, f"{prefix}{name}", shared)
        parameter = {"type": "text", "text": value}
        if fmt == "named":
            parameter["parameter_name"] = name
        parameters.append(parameter)
    return parameters


def _media_parameter(header_format, header_media):
    kind = header_format.lower()
    if not isinstance(header_media, dict):
        raise ValueError(f"the {kind} header needs a media id or link")
    if kind == "location":
        if header_media.get("latitude") is None or header_media.get("longitude") is None:
            raise ValueError("the location header needs a latitude and a longitude")
        keys = ("latitude", "longitude", "name", "address")
        return {"type": "location",
                "location": {k: header_media[k] for k in keys if header_media.get(k) is not None}}
    if not header_media.get("id") and not header_media.get("link"):
        raise ValueError(f"the {kind} header needs a media id or link")
    media = {"id": header_media["id"]} if header_media.get("id") else \
        {"link": header_media["link"]}
    if kind == "document" and header_media.get("filename"):
        media["filename"] = header_media["filename"]
    return {"type": kind, kind: media}


def build_send_components(components, values, *, header_media=None, button_values=None):
    """Meta's send-time ``template.components`` for ``components`` filled with ``values``.

    Raises ValueError when a parameter, the media of a media header or the
    variable part of a button has no value.
    """
    values = {str(k): v for k, v in (values or {}).items()}
    for index, value in (button_values or {}).items():
        values[f"button:{index}"] = value
    fmt = parameter_format(components)
    result = []
    header = component_of(components, "HEADER")
    if header:
        header_format = upper_text(header.get("format"))
        if header_format == "TEXT":
            parameters = _text_parameters(header.get("text"), values, fmt, prefix="header:")
        else:
            parameters = [_media_parameter(header_format, header_media)]
        if parameters:
            result.append({"type": "header", "parameters": parameters})
    body = component_of(components, "BODY") or {}
    parameters = _text_parameters(body.get("text"), values, fmt)
    if parameters:
        result.append({"type": "body", "parameters": parameters})
    for index, button in enumerate(buttons_of(components)):
        kind = upper_text(button.get("type"))
        key = f"button:{index}"
        if kind == "URL" and placeholders(button.get("url")):
            suffix = quote(_value(values, key), safe="")
            result.append({"type": "button", "sub_type": "url", "index": str(index),
                           "parameters": [{"type": "text", "text": suffix}]})
        elif kind == "COPY_CODE":
            result.append({"type": "button", "sub_type": "copy_code", "index": str(index),
                           "parameters": [{"type": "coupon_code",
                                           "coupon_code": _value(values, key)}]})
    return result


def _fill(text, values, prefix="", shared=True):
    def replace(match):
        name = match.group(1)
        value = values.get(f"{prefix}{name}")
        if (value is None or value == "") and prefix and shared:
            value = values.get(name)
        return str(value) if value not in (None, "") else match.group(0)

    return PLACEHOLDER_RE.sub(replace, text or "")


def render_preview(components, values) -> str:
    """Plain text of header, body and footer; unknown values keep their placeholder."""
    values = {str(k): v for k, v in (values or {}).items()}
    parts = []
    header = component_of(components, "HEADER")
    if header and upper_text(header.get("format")) == "TEXT":
        named = parameter_format(components) == "named"
        parts.append(_fill(header.get("text"), values, prefix="header:", shared=named))
    body = component_of(components, "BODY")
    if body:
        parts.append(_fill(body.get("text"), values))
    footer = component_of(components, "FOOTER")
    if footer:
        parts.append(footer.get("text") or "")
    return "\n".join(p for p in parts if p)
