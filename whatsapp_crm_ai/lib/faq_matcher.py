"""Offline FAQ matching for customer messages in English, Spanish and Portuguese.

Pure Python, no `odoo` import, no network and no model to download. A message and
each FAQ entry become sets of *terms*: words folded to lowercase ASCII (accents
removed, so "horário" meets "horario"), without stop words or greetings, and with a
light plural reduction shared by the three languages ("entregas" -> "entrega",
"informações" -> "informacao", "deliveries" -> "delivery").

The confidence of an entry (0 to 1) combines:

- coverage: the share of the message's terms found in the entry's question or
  keywords (what the entry explains of the message), weighted 0.6;
- support: how well the entry is hit, the share of its question's terms found, or
  its keywords hit (two keyword hits count as full support), weighted 0.4.

    >>> entries = [FaqEntry(1, "¿Cuál es el horario de atención?", "9 a 18 h", "horario, hora")]
    >>> match = FaqMatcher(entries).match("a que hora abren?")
    >>> match.key, match.answer
    (1, '9 a 18 h')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

COVERAGE_WEIGHT = 0.6
SUPPORT_WEIGHT = 0.4
KEYWORD_HITS_FOR_FULL_SUPPORT = 2

_WORD_RE = re.compile(r"[a-z0-9]+")

# Folded (lowercase, no accents). Question words and greetings are included: they
# appear in most messages and questions, so they say nothing about which one.
_STOP_WORDS_EN = """
    a about an and are as at be been but by can could do does did for from had has have how
    i if in into is it its me my no not of on or our please so than that the their them then
    there these they this to us was we were what when where which who why will with would you
    your hi hello hey thanks thank ok okay yes good morning afternoon evening
"""
_STOP_WORDS_ES = """
    al algo como con cual cuales cuando cuanto cuanta cuantos cuantas de del donde el ella
    ellos en es esta estan este esto hay la las le les lo los me mi mis muy nos o para pero
    por porque puedo puede pueden que quien se si sin sobre son su sus te tengo tiene tienen
    tu tus un una uno unos unas usted ustedes y ya yo hola buenas buenos buen dia dias tardes
    noches gracias favor quiero quisiera saber
"""
_STOP_WORDS_PT = """
    ao aos as com da das de do dos e ela ele eles em esta estao este isso isto mais mas meu
    minha na nas no nos o os ou para pela pelo pode podem posso por porque qual quais quando
    quanto quanta quantos quantas que quem se sem ser seu sua sao tem tenho um uma voce voces
    oi ola bom boa noite obrigado obrigada queria gostaria
"""
STOP_WORDS = frozenset(" ".join((_STOP_WORDS_EN, _STOP_WORDS_ES, _STOP_WORDS_PT)).split())


def fold(text: str) -> str:
    """Lowercase ASCII-ish text: case folded, accents removed ("Atenção" -> "atencao")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def reduce_plural(word: str) -> str:
    """A light plural and final-vowel reduction, applied alike to messages and FAQs."""
    if len(word) > 5 and word.endswith(("coes", "soes")):  # pt: informações, promoções
        return word[:-3] + "ao"
    if len(word) > 4 and word.endswith("ies"):  # en: deliveries
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):  # prices/price, ciudades/ciudad, fretes/frete
        word = word[:-1]
    return word


def terms(text: str | None) -> frozenset[str]:
    """The set of meaningful, normalized words of a text."""
    words = _WORD_RE.findall(fold(text or ""))
    return frozenset(
        reduce_plural(word) for word in words if word not in STOP_WORDS and len(word) > 1
    )


@dataclass(frozen=True)
class FaqEntry:
    key: Hashable
    question: str
    answer: str
    keywords: str = ""  # comma- or space-separated words or phrases


@dataclass(frozen=True)
class FaqMatch:
    key: Hashable
    answer: str
    confidence: float
    matched: tuple[str, ...]  # the normalized terms the message and the entry share


@dataclass(frozen=True)
class _IndexedEntry:
    entry: FaqEntry
    question_terms: frozenset[str]
    keyword_terms: frozenset[str]


class FaqMatcher:
    """Finds the entry that best answers a message; entries are indexed once."""

    def __init__(self, entries: Iterable[FaqEntry]):
        self._entries = [
            _IndexedEntry(entry, terms(entry.question), terms(entry.keywords.replace(",", " ")))
            for entry in entries
        ]

    def score(self, message_terms: frozenset[str], indexed: _IndexedEntry) -> float:
        question_hits = message_terms & indexed.question_terms
        keyword_hits = message_terms & indexed.keyword_terms
        matched = question_hits | keyword_hits
        if not message_terms or not matched:
            return 0.0
        coverage = len(matched) / len(message_terms)
        question_support = (
            len(question_hits) / len(indexed.question_terms) if indexed.question_terms else 0.0
        )
        keyword_support = min(1.0, len(keyword_hits) / KEYWORD_HITS_FOR_FULL_SUPPORT)
        support = max(question_support, keyword_support)
        return round(COVERAGE_WEIGHT * coverage + SUPPORT_WEIGHT * support, 4)

    def rank(self, text: str) -> list[FaqMatch]:
        """Every entry sharing a term with the message, best first (ties: entry order)."""
        message_terms = terms(text)
        scored = []
        for position, indexed in enumerate(self._entries):
            confidence = self.score(message_terms, indexed)
            if confidence > 0:
                shared = message_terms & (indexed.question_terms | indexed.keyword_terms)
                scored.append((-confidence, position, FaqMatch(
                    indexed.entry.key, indexed.entry.answer, confidence, tuple(sorted(shared)),
                )))
        return [match for *_, match in sorted(scored, key=lambda item: item[:2])]

    def match(self, text: str, min_confidence: float = 0.0) -> FaqMatch | None:
        """The best entry for the message, or None when none reaches min_confidence."""
        ranked = self.rank(text)
        if ranked and ranked[0].confidence >= min_confidence:
            return ranked[0]
        return None


def best_answer(text: str, entries: Iterable[FaqEntry],
                min_confidence: float = 0.0) -> FaqMatch | None:
    return FaqMatcher(entries).match(text, min_confidence)
