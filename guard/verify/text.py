"""Word-level reading of claims and sources: sentences, content words, numbers, names, negation.

Everything here is deterministic string work with no model, so the lexical and
hard-mismatch signals behave the same on every machine and are easy to test.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Abbreviations whose trailing period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "inc", "ltd", "co", "corp", "no",
    "fig", "al", "e.g", "i.e", "approx", "dept", "est", "gen", "gov", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m", "ph.d", "vol", "pp", "ca", "cf",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself of off on
    once only or other our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself yourselves one ones may might must
    shall us upon via per within without among amongst whose whether yet however thus therefore also""".split()
)

NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor cannot without n't isn't wasn't aren't weren't doesn't "
    "don't didn't hasn't haven't hadn't won't wouldn't can't couldn't shouldn't unable".split()
)

_NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # "one", "first", "second", "once" are left out: too often not numbers at all
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "bn": 1e9}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(thousand|million|billion|trillion|bn|k|m)\b)?", re.I)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; newlines end a sentence too (lists, headings, table rows)."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            candidate = line[start:match.start()].strip()
            if _ends_with_abbreviation(candidate):
                continue
            if candidate:
                sentences.append(candidate)
            start = match.end()
        rest = line[start:].strip()
        if rest:
            sentences.append(rest)
    return sentences


def _ends_with_abbreviation(text: str) -> bool:
    last = text.rsplit(None, 1)[-1].lower().rstrip(".") if text else ""
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def words(text: str) -> list[str]:
    """Word tokens with punctuation dropped, original case kept."""
    return _WORD.findall(text)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match "refunds"/"refunded"/"refund" without a dictionary."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (("ies", "y"), ("ied", "y"), ("ing", ""), ("edly", ""), ("ed", ""), ("es", ""), ("s", ""),
                         ("ly", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)] + keep
    return w


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords)."""
    return [stem(w) for w in words(text) if w.lower() not in STOPWORDS]


def all_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def numbers(text: str) -> set[float]:
    """Numeric values in a text, digits and number words alike ("1,500", "1.5 million", "three")."""
    values: set[float] = set()
    for match in _NUMBER.finditer(text):
        value = float(match.group(1).replace(",", ""))
        scale = match.group(2)
        if scale:
            value *= _SCALES[scale.lower()]
        values.add(round(value, 6))
    for w in words(text):
        if w.lower() in _NUMBER_WORDS:
            values.add(float(_NUMBER_WORDS[w.lower()]))
    return values


def number_found(value: float, candidates: set[float]) -> bool:
    """A claim's number is found when the source has it, allowing for rounding (3.2 vs 3.19, 1.5M vs 1,520,000)."""
    for other in candidates:
        if other == value:
            return True
        if value and other and abs(other - value) / max(abs(value), abs(other)) < 0.02 and (value >= 10 or other >= 10):
            return True
    return False


def names(text: str) -> set[str]:
    """Lower-cased capitalised words that are not the first word of the text nor stopwords: likely names."""
    found: set[str] = set()
    tokens = words(text)
    for i, w in enumerate(tokens):
        if not w[0].isupper() or w.lower() in STOPWORDS or w.lower() in _NUMBER_WORDS:
            continue
        if i == 0 and not (w.isupper() and len(w) > 1):
            continue
        found.add(stem(w))
    return found


def negation_count(text: str) -> int:
    return sum(1 for w in words(text.lower().replace("’", "'")) if w in NEGATIONS or w.endswith("n't"))
