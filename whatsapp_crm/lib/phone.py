"""Phone numbers as WhatsApp sees them: E.164, wa_ids and the country quirks.

A wa_id is the E.164 number without "+". Meta may answer with a wa_id that differs
from the number we sent to (Brazil's mobile "9", Mexico's "521", Argentina's
"549"), so contact lookups must try every variant. Meta's phone number formats:
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers
"""

from __future__ import annotations

import re

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The text cannot be read as a valid phone number."""


def to_e164(number: str, default_region: str | None = None) -> str:
    """'+55 (11) 98765-4321', '5511987654321' or national + region -> '+5511987654321'."""
    if not isinstance(number, str) or not number.strip():
        raise InvalidPhoneNumber("phone number is empty")
    text = number.strip()
    candidates = []
    if default_region and not text.startswith("+"):
        candidates.append((text, default_region.upper()))
    # Without "+", digits are read as a wa_id (country code included), which is
    # also the fallback when a national reading with default_region is invalid.
    candidates.append((text if text.startswith("+") else "+" + text, None))
    for candidate, region in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber(f"not a valid phone number: {number!r}")


def to_wa_id(number: str, default_region: str | None = None) -> str:
    """Digits only, the form WhatsApp uses in webhooks ('5511987654321')."""
    return to_e164(number, default_region)[1:]


def is_valid(number: str, default_region: str | None = None) -> bool:
    try:
        to_e164(number, default_region)
    except InvalidPhoneNumber:
        return False
    return True


def format_international(number: str, default_region: str | None = None) -> str:
    """Human display form, e.g. '+55 11 98765-4321'."""
    parsed = phonenumbers.parse(to_e164(number, default_region), None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _brazil_variants(digits: str) -> list[str]:
    # 55 + 2-digit area code (no 0) + mobile. Mobiles gained a leading 9 (8 -> 9
    # digits) and accounts created before keep the old form. Old 8-digit mobiles
    # start with 6-9; 2-5 are landlines, which never get the 9.
    match = re.fullmatch(r"55([1-9]{2})(9?)([6-9]\d{7})", digits)
    if not match:
        return []
    area, nine, subscriber = match.groups()
    return [f"55{area}{subscriber}"] if nine else [f"55{area}9{subscriber}"]


def _mexico_variants(digits: str) -> list[str]:
    # Mexican mobiles used to be dialled as 52 1 + 10 digits; Meta may use either.
    match = re.fullmatch(r"52(1?)([2-9]\d{9})", digits)
    if not match:
        return []
    one, national = match.groups()
    return [f"52{national}"] if one else [f"521{national}"]


def _argentina_variants(digits: str) -> list[str]:
    # International mobiles are 54 9 + 10-digit national number (without the
    # domestic 0 trunk prefix and the 15 mobile prefix); WhatsApp may drop the 9.
    # phonenumbers knows the area codes, so it strips 0/15 and adds the 9 for us.
    if not digits.startswith("54"):
        return []
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return []
    national = str(parsed.national_number)
    if len(national) == 11 and national.startswith("9"):
        national = national[1:]
    if len(national) != 10:
        return []
    return [f"549{national}", f"54{national}"]


_COUNTRY_VARIANTS = {"55": _brazil_variants, "52": _mexico_variants, "54": _argentina_variants}


def wa_id_variants(wa_id: str) -> list[str]:
    """Digit forms that may denote the same WhatsApp user, the input first."""
    if not isinstance(wa_id, str):
        return []
    digits = re.sub(r"\D", "", wa_id)
    if not digits:
        return []
    variants = [digits]
    builder = _COUNTRY_VARIANTS.get(digits[:2])
    if builder is not None:
        variants.extend(builder(digits))
    return list(dict.fromkeys(variants))


def e164_variants(number: str) -> list[str]:
    """wa_id_variants() with a leading '+'."""
    return ["+" + digits for digits in wa_id_variants(number)]


# A business-scoped user id: ISO 3166 alpha-2 country, a period, up to 128 alphanumerics
# ("BR.1502576394655843"; a parent BSUID has "ENT." after the country). Meta sends one
# for every customer since April 2026, and it is the only id of a customer who adopted
# a username and withholds the number (Meta's "Business-scoped user IDs" page).
_BSUID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")


def is_bsuid(value) -> bool:
    return isinstance(value, str) and bool(_BSUID.match(value))
