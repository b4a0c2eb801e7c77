"""Message templates: creation rules, storage, paging and send-time parameter checks."""

from __future__ import annotations

import base64
import re
import threading
import time
from typing import Any

from .errors import GraphError

NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
POSITIONAL_RE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
NAMED_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
ANY_PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CATEGORIES = {"MARKETING", "UTILITY", "AUTHENTICATION"}
STATUSES = {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL",
            "LIMIT_EXCEEDED", "ARCHIVED", "DELETED", "PENDING_DELETION", "FLAGGED"}
HEADER_FORMATS = {"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"}


def norm_lang(code: str) -> str:
    return str(code or "").replace("-", "_").lower()


def placeholders(text: str, fmt: str) -> list[str]:
    """Distinct placeholders of ``text`` in order of first appearance."""
    regex = NAMED_RE if fmt == "NAMED" else POSITIONAL_RE
    seen: list[str] = []
    for match in regex.finditer(text or ""):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def _invalid(details: str, subcode: int = 2388043, title: str = "Invalid template") -> GraphError:
    return GraphError(100, details, subcode=subcode, user_title=title, user_msg=details,
                      message="Invalid parameter")


def _check_placeholders(text: str, fmt: str, where: str) -> list[str]:
    found = [m.group(1) for m in ANY_PLACEHOLDER_RE.finditer(text or "")]
    for name in found:
        if fmt == "POSITIONAL":
            ok = name.isdigit()
        else:
            ok = bool(re.fullmatch(r"[a-z_][a-z0-9_]*", name))
        if not ok:
            raise _invalid(f"{where}: placeholder '{{{{{name}}}}}' does not match "
                           f"parameter_format {fmt.lower()}.", 2388103)
    names = placeholders(text, fmt)
    if fmt == "POSITIONAL" and sorted(int(n) for n in names) != list(range(1, len(names) + 1)):
        raise _invalid(f"{where}: positional parameters must be sequential from {{{{1}}}}.",
                       2388103)
    return names


def _check_examples(comp: dict, names: list[str], fmt: str, key: str, where: str) -> None:
    if not names:
        return
    example = comp.get("example") or {}
    if fmt == "NAMED":
        given = example.get(f"{key}_named_params") or []
        have = {p.get("param_name") for p in given if isinstance(p, dict) and p.get("example")}
        missing = [n for n in names if n not in have]
    else:
        given = example.get(key) or []
        if key == "body_text":
            given = given[0] if given and isinstance(given[0], list) else []
        missing = names[len(given):]
    if missing:
        raise _invalid(f"{where}: missing example values for parameters {missing}.", 2388045,
                       "Missing sample values")


def validate_definition(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a create-template request like Meta → normalised template dict."""
    if not isinstance(data, dict):
        raise _invalid("The request body must be a JSON object.")
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _invalid("name must be 1-512 characters of lowercase letters, digits and "
                       "underscores.", 2388042)
    language = data.get("language")
    if not isinstance(language, str) or not language:
        raise GraphError(100, "The parameter language is required.", subcode=2388023)
    category = str(data.get("category") or "").upper()
    if category not in CATEGORIES:
        raise _invalid("category must be one of MARKETING, UTILITY, AUTHENTICATION.", 2388041)
    fmt = str(data.get("parameter_format") or "positional").upper()
    if fmt not in ("POSITIONAL", "NAMED"):
        raise _invalid("parameter_format must be 'named' or 'positional'.", 2388103)
    comps = data.get("components")
    if not isinstance(comps, list) or not comps:
        raise _invalid("components are required.", 2388043)
    counts: dict[str, int] = {}
    for comp in comps:
        if not isinstance(comp, dict):
            raise _invalid("Each component must be an object.")
        ctype = str(comp.get("type") or "").upper()
        counts[ctype] = counts.get(ctype, 0) + 1
        if ctype == "BODY":
            text = comp.get("text")
            if not isinstance(text, str) or not text.strip():
                raise _invalid("BODY text is required.", 2388043)
            if len(text) > 1024:
                raise _invalid("BODY text is longer than 1024 characters.", 2388040)
            names = _check_placeholders(text, fmt, "BODY")
            stripped = text.strip()
            if names and (ANY_PLACEHOLDER_RE.match(stripped)
                          or re.search(r"\{\{[^{}]*\}\}$", stripped)):
                raise _invalid("Variables can't be at the start or end of the template.",
                               2388299, "Leading or trailing parameters")
            _check_examples(comp, names, fmt, "body_text", "BODY")
        elif ctype == "HEADER":
            hfmt = str(comp.get("format") or "").upper()
            if hfmt not in HEADER_FORMATS:
                raise _invalid(f"HEADER format must be one of {sorted(HEADER_FORMATS)}.")
            if hfmt == "TEXT":
                text = comp.get("text")
                if not isinstance(text, str) or not text:
                    raise _invalid("HEADER text is required.")
                if len(text) > 60:
                    raise _invalid("HEADER text is longer than 60 characters.", 2388040)
                names = _check_placeholders(text, fmt, "HEADER")
                if len(names) > 1:
                    raise _invalid("HEADER text can have at most one parameter.", 2388040)
                _check_examples(comp, names, fmt, "header_text", "HEADER")
        elif ctype == "FOOTER":
            text = comp.get("text")
            if not isinstance(text, str) or not text:
                raise _invalid("FOOTER text is required.")
            if len(text) > 60:
                raise _invalid("FOOTER text is longer than 60 characters.", 2388040)
            if ANY_PLACEHOLDER_RE.search(text):
                raise _invalid("FOOTER text can't contain parameters.")
        elif ctype == "BUTTONS":
            _check_buttons(comp.get("buttons"))
        else:
            raise _invalid(f"Unknown component type '{comp.get('type')}'.")
    if counts.get("BODY", 0) != 1:
        raise _invalid("A template needs exactly one BODY component.", 2388043)
    for ctype in ("HEADER", "FOOTER", "BUTTONS"):
        if counts.get(ctype, 0) > 1:
            raise _invalid(f"At most one {ctype} component is allowed.")
    return {
        "name": name,
        "language": language,
        "category": category,
        "parameter_format": fmt,
        "components": comps,
    }


def _check_buttons(buttons: Any) -> None:
    if not isinstance(buttons, list) or not buttons:
        raise _invalid("BUTTONS needs a non-empty buttons list.")
    if len(buttons) > 10:
        raise _invalid("A template can have at most 10 buttons.", 2388066)
    kinds = [str((b or {}).get("type") or "").upper() for b in buttons]
    limits = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
    for kind, limit in limits.items():
        if kinds.count(kind) > limit:
            raise _invalid(f"At most {limit} {kind} button(s) allowed.", 2388066)
    for button, kind in zip(buttons, kinds, strict=True):
        text = button.get("text")
        if kind not in ("OTP",) and (not isinstance(text, str) or not text):
            raise _invalid(f"{kind} button needs a text label.")
        if isinstance(text, str) and len(text) > 25:
            raise _invalid("Button text is longer than 25 characters.", 2388040)
        if kind == "URL":
            url = button.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise _invalid("URL button needs an http(s) url.")
            if len(url) > 2000:
                raise _invalid("URL is longer than 2000 characters.")
            params = ANY_PLACEHOLDER_RE.findall(url)
            if len(params) > 1 or (params and not re.search(r"\{\{[^{}]*\}\}$", url)):
                raise _invalid("A URL button can have only one trailing variable.")
            if params and not button.get("example"):
                raise _invalid("URL button variable needs an example.", 2388045)
        elif kind == "PHONE_NUMBER" and not button.get("phone_number"):
            raise _invalid("PHONE_NUMBER button needs phone_number.")


def expected_parameters(template: dict[str, Any]) -> dict[str, list[str]]:
    """Component key ('header', 'body', 'button:<index>') → expected parameter names."""
    fmt = template.get("parameter_format", "POSITIONAL")
    expected: dict[str, list[str]] = {}
    for comp in template.get("components", []):
        ctype = str(comp.get("type") or "").upper()
        if ctype == "BODY":
            names = placeholders(comp.get("text", ""), fmt)
            if names:
                expected["body"] = names
        elif ctype == "HEADER":
            hfmt = str(comp.get("format") or "").upper()
            if hfmt == "TEXT":
                names = placeholders(comp.get("text", ""), fmt)
                if names:
                    expected["header"] = names
            else:
                expected["header"] = [hfmt.lower()]
        elif ctype == "BUTTONS":
            for idx, button in enumerate(comp.get("buttons") or []):
                kind = str(button.get("type") or "").upper()
                has_var = kind == "URL" and ANY_PLACEHOLDER_RE.search(button.get("url", ""))
                if has_var or kind in ("COPY_CODE", "OTP"):
                    expected[f"button:{idx}"] = ["1"]
    return expected


def check_send_parameters(template: dict[str, Any], components: Any) -> None:
    """Meta's 132000 check: every component gets exactly its placeholder count."""
    if components is None:
        components = []
    if not isinstance(components, list):
        raise GraphError(131009, "template.components must be an array.")
    expected = expected_parameters(template)
    given: dict[str, list[Any]] = {}
    for comp in components:
        if not isinstance(comp, dict):
            raise GraphError(131009, "Each template component must be an object.")
        ctype = str(comp.get("type") or "").lower()
        params = comp.get("parameters") or []
        if not isinstance(params, list):
            raise GraphError(131009, f"{ctype}.parameters must be an array.")
        if ctype == "button":
            if str(comp.get("sub_type") or "").lower() == "quick_reply":
                continue  # quick-reply payloads are optional
            key = f"button:{comp.get('index')}"
        elif ctype in ("header", "body"):
            key = ctype
        else:
            raise GraphError(131009, f"Unknown template component type '{comp.get('type')}'.")
        given[key] = params
    for key in sorted(set(expected) | set(given)):
        want = expected.get(key, [])
        got = given.get(key, [])
        if len(want) != len(got):
            where = key.replace(":", " ")
            raise GraphError(132000, f"{where}: number of localizable_params ({len(got)}) does "
                                     f"not match the expected number of params ({len(want)})")
        if template.get("parameter_format") == "NAMED" and key in ("body", "header") \
                and want and want[0] not in ("image", "video", "document", "location"):
            names = {p.get("parameter_name") for p in got if isinstance(p, dict)}
            if names != set(want):
                raise GraphError(132000, f"{key}: parameter names {sorted(map(str, names))} "
                                         f"do not match the template's {sorted(want)}")


class TemplateStore:
    def __init__(self, new_id, now=None):
        self._lock = threading.Lock()
        self._by_waba: dict[str, list[dict[str, Any]]] = {}
        self._new_id = new_id
        self._now = now or time.time

    def clear(self) -> None:
        with self._lock:
            self._by_waba.clear()

    def add(self, waba_id: str, tpl: dict[str, Any], status: str = "PENDING") -> dict[str, Any]:
        with self._lock:
            items = self._by_waba.setdefault(waba_id, [])
            for other in items:
                if other["name"] == tpl["name"] and \
                        norm_lang(other["language"]) == norm_lang(tpl["language"]):
                    raise _invalid(f"Content in this language already exists for template "
                                   f"'{tpl['name']}' ({tpl['language']}).", 2388024,
                                   "Content in this language already exists")
            record = {
                "id": str(tpl.get("id") or self._new_id()),
                "name": tpl["name"],
                "language": tpl["language"],
                "status": str(tpl.get("status") or status).upper(),
                "category": str(tpl.get("category") or "UTILITY").upper(),
                "parameter_format": str(tpl.get("parameter_format") or "POSITIONAL").upper(),
                "components": tpl.get("components") or [],
                "quality_score": self._quality(tpl.get("quality_score")),
            }
            items.append(record)
            return record

    def _quality(self, given: Any) -> dict[str, Any]:
        """Meta's ``quality_score``: ``{"score": ..., "date": <unix seconds>}``."""
        quality = dict(given) if isinstance(given, dict) else {}
        if isinstance(given, str) and given:
            quality["score"] = given
        quality["score"] = str(quality.get("score") or "UNKNOWN").upper()
        quality.setdefault("date", int(self._now()))
        return quality

    def find(self, waba_id: str, name: str, language: str) -> dict[str, Any] | None:
        with self._lock:
            for tpl in self._by_waba.get(waba_id, []):
                if tpl["name"] == name and norm_lang(tpl["language"]) == norm_lang(language):
                    return tpl
        return None

    def by_id(self, template_id: str) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            for waba_id, items in self._by_waba.items():
                for tpl in items:
                    if tpl["id"] == template_id:
                        return waba_id, tpl
        return None

    def delete(self, waba_id: str, name: str, hsm_id: str | None = None) -> int:
        with self._lock:
            items = self._by_waba.get(waba_id, [])
            keep = [t for t in items if not (t["name"] == name and
                                             (hsm_id is None or t["id"] == hsm_id))]
            self._by_waba[waba_id] = keep
            return len(items) - len(keep)

    def list(self, waba_id: str, status: str | None = None,
             name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._by_waba.get(waba_id, []))
        if status:
            wanted = {s.strip().upper() for s in status.split(",")}
            items = [t for t in items if t["status"] in wanted]
        if name:
            items = [t for t in items if name.lower() in t["name"]]
        return items


SUMMARY_KEYS = ("total_count", "message_template_count", "message_template_limit",
                "are_translations_complete")


def summary_keys(raw: str | None) -> list[str]:
    """``summary=`` query value → the summary keys asked for (``true`` = all of them)."""
    text = str(raw or "").strip()
    if not text or text.lower() in ("false", "0"):
        return []
    if text.lower() in ("true", "1"):
        return list(SUMMARY_KEYS)
    wanted = [k.strip() for k in text.split(",")]
    return [k for k in SUMMARY_KEYS if k in wanted]


def translations_complete(items: list[dict[str, Any]]) -> bool:
    """True when every template name exists in every language the WABA uses."""
    languages = {norm_lang(t["language"]) for t in items}
    by_name: dict[str, set[str]] = {}
    for tpl in items:
        by_name.setdefault(tpl["name"], set()).add(norm_lang(tpl["language"]))
    return all(langs == languages for langs in by_name.values())


def select_fields(template: dict[str, Any], raw: str | None) -> dict[str, Any]:
    """Apply Graph's ``fields=a,b{c}`` selection: those top-level fields plus ``id``."""
    if not raw or not str(raw).strip():
        return dict(template)
    names, depth, current = [], 0, ""
    for char in str(raw):  # split on commas outside {...}
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        if depth == 0 and char != "}":
            current += char
    names.append(current)
    wanted = {n.strip() for n in names if n.strip()}
    return {k: v for k, v in template.items() if k == "id" or k in wanted}


def encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"sim:{index}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith("sim:"):
            raise ValueError(cursor)
        return int(text[4:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphError(100, f"Invalid cursor '{cursor}'.") from exc
