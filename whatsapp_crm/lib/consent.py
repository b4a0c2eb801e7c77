"""Consent keywords: how an inbound text is compared with a keyword.

Plain data in, plain data out: no Odoo import.
"""

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

# Meta's user_preferences webhook values and the consent they mean, see
# https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
PREFERENCE_STATES = {"stop": "opted_out", "resume": "opted_in", "signup": "opted_in"}
PREFERENCE_CATEGORIES = {None, "", "marketing_messages"}


def normalize_keyword(text):
    """Case, accents, punctuation and spacing do not count: "¡Baja!" -> "baja".

    Underscores count as spaces, so a button payload STOP_PROMO reads "stop promo".
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", without_accents.casefold()).split())


def preference_state(category, value):
    """The consent state a user_preferences item asks for, or None when not ours."""
    if category not in PREFERENCE_CATEGORIES:
        return None
    return PREFERENCE_STATES.get((value or "").strip().lower())
