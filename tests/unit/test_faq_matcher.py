"""Unit tests of whatsapp_crm_ai/lib/faq_matcher.py (pure Python, no Odoo)."""

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "whatsapp_crm_ai" / "lib" / "faq_matcher.py"
_SPEC = importlib.util.spec_from_file_location("wacrm_ai_faq_matcher", _PATH)
faq_matcher = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = faq_matcher  # dataclasses look their module up while executing it
_SPEC.loader.exec_module(faq_matcher)

FaqEntry, FaqMatcher = faq_matcher.FaqEntry, faq_matcher.FaqMatcher

ENTRIES = [
    FaqEntry("hours", "¿Cuál es el horario de atención?", "De 9 a 18 h.",
             "horario, abierto, hora, abren"),
    FaqEntry("delivery", "Qual é o prazo de entrega?", "Até 5 dias úteis.",
             "entrega, envio, prazo, frete"),
    FaqEntry("shipping", "How much does shipping cost?", "Free above 50 EUR.",
             "shipping, price, cost, delivery"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola, ¿a qué hora abren mañana?", "hours"),
        ("Qual é o HORÁRIO de atendimento?", "hours"),
        ("Olá! Qual o prazo de entrega para São Paulo?", "delivery"),
        ("Quanto custam os fretes?", "delivery"),
        ("What are your delivery prices?", "shipping"),
    ],
)
def test_best_entry(text, expected):
    match = FaqMatcher(ENTRIES).match(text)
    assert match is not None and match.key == expected
    assert 0 < match.confidence <= 1


def test_no_match_and_threshold():
    matcher = FaqMatcher(ENTRIES)
    assert matcher.match("Bom dia! Obrigado") is None  # greetings only
    assert matcher.match("") is None
    weak = matcher.match("Quanto custam os fretes?")
    assert weak.confidence < 0.7
    assert matcher.match("Quanto custam os fretes?", min_confidence=0.9) is None


def test_ranking_is_ordered_and_explained():
    ranked = FaqMatcher(ENTRIES).rank("horario de entrega")
    assert {m.key for m in ranked} == {"hours", "delivery"}
    confidences = [m.confidence for m in ranked]
    assert confidences == sorted(confidences, reverse=True)
    assert {m.matched for m in ranked} == {("horario",), ("entrega",)}


def test_terms_fold_accents_and_plurals():
    assert faq_matcher.terms("Informações, PROMOÇÕES e entregas") == {
        "informacao", "promocao", "entrega"}
    assert faq_matcher.terms("deliveries prices") == faq_matcher.terms("delivery price")
    assert faq_matcher.fold("Atención") == "atencion"
