"""Phone normalisation and the wa_id quirks of Brazil, Mexico and Argentina."""

import pytest

from lib import phone
from lib.phone import InvalidPhoneNumber


@pytest.mark.parametrize(("number", "region", "expected"), [
    ("+5511987654321", None, "+5511987654321"),
    ("5511987654321", None, "+5511987654321"),  # a wa_id
    ("+55 (11) 98765-4321", None, "+5511987654321"),
    ("  +1 415-555-2671 ", None, "+14155552671"),
    ("(11) 98765-4321", "BR", "+5511987654321"),  # national number
    ("011 98765-4321", "br", "+5511987654321"),
    ("5511987654321", "BR", "+5511987654321"),  # wa_id given with a region
    ("14155552671", "BR", "+14155552671"),  # foreign wa_id, national reading invalid
    ("0351 15 234 5678", "AR", "+5493512345678"),
])
def test_to_e164(number, region, expected):
    assert phone.to_e164(number, region) == expected
    assert phone.to_wa_id(number, region) == expected[1:]
    assert phone.is_valid(number, region)


@pytest.mark.parametrize("number", ["abc", "", "   ", "+1 555", "+", "123", None, 5511987654321])
def test_invalid_numbers(number):
    with pytest.raises(InvalidPhoneNumber):
        phone.to_e164(number)
    assert phone.is_valid(number) is False


def test_invalid_phone_number_is_a_value_error():
    assert issubclass(InvalidPhoneNumber, ValueError)


def test_national_number_without_region_is_invalid():
    assert not phone.is_valid("(11) 98765-4321")


def test_format_international():
    assert phone.format_international("5511987654321") == "+55 11 98765-4321"
    with pytest.raises(InvalidPhoneNumber):
        phone.format_international("abc")


@pytest.mark.parametrize(("wa_id", "other"), [
    ("5511987654321", "551187654321"),  # Brazil: mobile with the 9 <-> without
    ("551187654321", "5511987654321"),
    ("5521999887766", "552199887766"),
    ("5215512345678", "525512345678"),  # Mexico: 521 <-> 52
    ("525512345678", "5215512345678"),
    ("5491123456789", "541123456789"),  # Argentina: 549 <-> 54
    ("541123456789", "5491123456789"),
])
def test_variants_both_directions(wa_id, other):
    variants = phone.wa_id_variants(wa_id)
    assert variants[0] == wa_id
    assert other in variants
    assert len(variants) == len(set(variants))
    assert wa_id in phone.wa_id_variants(other)


def test_brazil_landlines_and_odd_lengths_get_no_variant():
    assert phone.wa_id_variants("551132654321") == ["551132654321"]  # landline (starts 3)
    assert phone.wa_id_variants("5511912345678") == ["5511912345678"]  # 9 + 1xxx: not mobile
    assert phone.wa_id_variants("55119876543") == ["55119876543"]  # too short
    assert phone.wa_id_variants("550187654321") == ["550187654321"]  # area code 01


def test_argentina_national_forms_with_0_and_15():
    variants = phone.wa_id_variants("+54 11 15 2345-6789")
    assert variants == ["54111523456789", "5491123456789", "541123456789"]


def test_other_countries_and_bad_input():
    assert phone.wa_id_variants("14155552671") == ["14155552671"]
    assert phone.wa_id_variants("+44 7911 123456") == ["447911123456"]
    assert phone.wa_id_variants("") == []
    assert phone.wa_id_variants("abc") == []
    assert phone.wa_id_variants(None) == []


def test_e164_variants():
    assert phone.e164_variants("+55 11 98765-4321") == ["+5511987654321", "+551187654321"]
    assert phone.e164_variants("525512345678") == ["+525512345678", "+5215512345678"]
