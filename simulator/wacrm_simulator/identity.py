"""Who a customer is since 2026: phone number, BSUID and username.

Meta's rules, as the search tool's stored pages give them:
- developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
  Every ``messages`` webhook carries the business-scoped user id (``user_id``) since
  April 2026; sends to a BSUID through ``recipient`` work since May 2026, ``to`` wins when
  both are given. A user who adopts a username withholds the phone number (``from``,
  ``wa_id``, ``recipient_id``) unless the business messaged or called that number in the
  last 30 days, or the number is in its Meta contact book.
- docs.360dialog.com/docs/resources/phone-numbers/usernames-and-bsuid: the BSUID is the
  user's ISO 3166 alpha-2 country, a period and up to 128 alphanumerics
  (``BR.1502576394655843``); a parent BSUID carries ``ENT``; a new BSUID is issued when the
  user changes number.
- .../webhooks/reference/messages/system/: ``user_changed_number`` carries the new number;
  ``user_changed_user_id`` only the BSUID change. System messages have no ``contacts``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

NUMBER_SHARED_SECONDS = 30 * 24 * 3600
BSUID_RE = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")

# Calling codes of the markets the simulator's personas and tests use; others map to "US".
_COUNTRY_BY_PREFIX = {
    "351": "PT", "54": "AR", "55": "BR", "52": "MX", "57": "CO", "56": "CL", "51": "PE",
    "34": "ES", "44": "GB", "49": "DE", "33": "FR", "39": "IT", "91": "IN", "1": "US",
}


def country_of(wa_id: str) -> str:
    for length in (3, 2, 1):
        country = _COUNTRY_BY_PREFIX.get(wa_id[:length])
        if country:
            return country
    return "US"


def is_bsuid(value: Any) -> bool:
    return isinstance(value, str) and bool(BSUID_RE.match(value))


def new_bsuid(wa_id: str, salt: str, generation: int = 0) -> str:
    """A stable BSUID per (portfolio salt, number, generation): 19 digits after the dot."""
    digest = hashlib.sha256(f"{salt}:{wa_id}:{generation}".encode()).hexdigest()
    return f"{country_of(wa_id)}.{int(digest[:16], 16) % 10**19:019d}"


def number_visible(customer: dict[str, Any], now: float) -> bool:
    """Whether webhooks may show this customer's phone number."""
    return not customer.get("username_only") or now < customer.get("number_shared_until", 0)


def contact_block(customer: dict[str, Any], now: float, *,
                  status: str | None = None) -> dict[str, Any]:
    """One ``contacts[]`` entry: of an inbound message, or of a status when ``status``.

    Statuses carry no profile name, and ``sent`` no username (whatsapp-api-js's
    ServerContacts, which follows the BSUID page). A send to the phone number shares the
    number for 30 days, so ``wa_id`` then shows on the statuses too."""
    block: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    if status is None and customer.get("name"):
        profile["name"] = customer["name"]
    if customer.get("username") and status != "sent":
        profile["username"] = customer["username"]
    if profile:
        block["profile"] = profile
    if number_visible(customer, now):
        block["wa_id"] = customer["wa_id"]
    block["user_id"] = customer["bsuid"]
    if customer.get("parent_bsuid"):
        block["parent_user_id"] = customer["parent_bsuid"]
    return block
