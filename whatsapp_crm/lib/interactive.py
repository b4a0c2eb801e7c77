"""Interactive messages (reply buttons and lists) built within Meta's limits.

Meta's limits, per field of the ``interactive`` object:
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#interactive-object

Pure Python: takes plain values, returns the `interactive` object of a send request,
or raises ValueError with a message a salesperson can act on.
"""

from __future__ import annotations

MAX_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_BUTTON = 20
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_REPLY_ID = 256


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValueError("an interactive message needs a text")
    if len(body) > MAX_BODY:
        raise ValueError(f"the text is {len(body)} characters long; the limit is {MAX_BODY}")
    return body


def _reply_id(index: int, title: str) -> str:
    slug = "".join(ch if ch.isalnum() else "_" for ch in title.lower()).strip("_")
    return f"{index}_{slug}"[:MAX_REPLY_ID]


def reply_buttons(body: str, titles: list[str]) -> dict:
    """Up to three buttons; the customer's tap comes back as a button_reply."""
    body = _check_body(body)
    titles = [title.strip() for title in titles if title and title.strip()]
    if not titles:
        raise ValueError("add at least one button")
    if len(titles) > MAX_BUTTONS:
        raise ValueError(f"WhatsApp allows {MAX_BUTTONS} reply buttons, not {len(titles)}")
    for title in titles:
        if len(title) > MAX_BUTTON_TITLE:
            raise ValueError(f"the button '{title}' is longer than {MAX_BUTTON_TITLE} characters")
    if len({title.lower() for title in titles}) != len(titles):
        raise ValueError("two buttons have the same title")
    return {
        "type": "button",
        "body": {"text": body},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": _reply_id(index, title), "title": title}}
            for index, title in enumerate(titles)
        ]},
    }


def list_message(body: str, button: str, rows: list[tuple[str, str]],
                 section_title: str | None = None) -> dict:
    """A menu of up to ten rows behind one button; the choice comes back as a list_reply."""
    body = _check_body(body)
    button = (button or "").strip()
    if not button or len(button) > MAX_LIST_BUTTON:
        raise ValueError(f"the list button needs a label of 1 to {MAX_LIST_BUTTON} characters")
    cleaned = [(title.strip(), (description or "").strip()) for title, description in rows
               if title and title.strip()]
    if not cleaned:
        raise ValueError("add at least one row")
    if len(cleaned) > MAX_LIST_ROWS:
        raise ValueError(f"WhatsApp allows {MAX_LIST_ROWS} rows in a list, not {len(cleaned)}")
    for title, description in cleaned:
        if len(title) > MAX_ROW_TITLE:
            raise ValueError(f"the row '{title}' is longer than {MAX_ROW_TITLE} characters")
        if len(description) > MAX_ROW_DESCRIPTION:
            raise ValueError(
                f"the description of '{title}' is longer than {MAX_ROW_DESCRIPTION} characters")
    section = {"rows": [
        {"id": _reply_id(index, title), "title": title,
         **({"description": description} if description else {})}
        for index, (title, description) in enumerate(cleaned)
    ]}
    if section_title:
        section["title"] = section_title[:MAX_ROW_TITLE]
    return {"type": "list", "body": {"text": body},
            "action": {"button": button, "sections": [section]}}


def parse_rows(text: str) -> list[tuple[str, str]]:
    """One row per line, `title | description` (the description is optional)."""
    rows = []
    for line in (text or "").splitlines():
        title, _sep, description = line.partition("|")
        if title.strip():
            rows.append((title.strip(), description.strip()))
    return rows
