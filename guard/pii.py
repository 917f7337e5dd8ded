"""Mask personal data before anything is stored or logged (``product.pii_handling: redact``).

Detection leans on maintained validators rather than a wall of regular expressions:
phone numbers come from libphonenumber's matcher (``phonenumbers``), card numbers and
IBANs are loose candidates that must pass ``python-stdnum``'s checksums (Luhn, ISO 7064
mod 97), so prices, SKUs, dates and order numbers stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import ssn

from guard.config import GuardConfig, ProductSpec

# One span of text to mask: start, end, the mask's label.
_Span = tuple[int, int, str]

# RFC 5322's full grammar is not what people type; this is the HTML5 spec's "valid e-mail address".
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
# 13-19 digits, optionally grouped by single spaces or dashes; validated by Luhn and issuer prefix.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Payment cards start with an ISO/IEC 7812 industry digit 2-6 (Mastercard 2-series, Amex/Diners/JCB, Visa, ...).
_CARD_PREFIX = re.compile(r"[2-6]")
# Country code, check digits, then 11-30 letters/digits, optionally in groups of four.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
# Seven digits close together: every card, IBAN, SSN and phone number has them, most prose does not.
_DIGIT_RUN = re.compile(r"\d(?:[\s().+/-]{0,3}\d){6}")
# Where a phone number might be; libphonenumber's matcher then decides on just that stretch, which is
# what keeps redaction fast: the matcher over a whole 1 KB text costs milliseconds.
_PHONE_CANDIDATE = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d){6,}")


def _emails(text: str) -> Iterator[_Span]:
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), "EMAIL"


def _cards(text: str) -> Iterator[_Span]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if _CARD_PREFIX.match(digits) and luhn.is_valid(digits):
            yield m.start(), m.end(), "CARD"


def _ibans(text: str) -> Iterator[_Span]:
    for m in _IBAN.finditer(text):
        if iban.is_valid(m.group()):
            yield m.start(), m.end(), "IBAN"


def _ssns(text: str) -> Iterator[_Span]:
    for m in _SSN.finditer(text):
        if ssn.is_valid(m.group()):
            yield m.start(), m.end(), "SSN"


class Redactor:
    """Masks e-mail addresses, phone numbers, card numbers, IBANs and US SSNs as ``[EMAIL]``, ``[PHONE]``, ...

    ``product.pii_region`` is where numbers written without a ``+country`` prefix are assumed
    to be dialled from (ISO 3166 code); numbers with the prefix are found whatever it is.
    With ``pii_handling`` ``none`` or ``allowed`` it returns text unchanged.
    """

    def __init__(self, config: GuardConfig | ProductSpec):
        spec = config.product if isinstance(config, GuardConfig) else config
        self.enabled = spec.pii_handling == "redact"
        self.region = spec.pii_region

    def _phones(self, text: str, found: list[_Span]) -> Iterator[_Span]:
        for candidate in _PHONE_CANDIDATE.finditer(text):
            if any(start <= candidate.start() and candidate.end() <= end for start, end, _ in found):
                continue  # already a card, IBAN or SSN: spare the matcher, the costly part
            # One character of context each side: the matcher rejects numbers glued to letters or digits.
            offset = max(candidate.start() - 1, 0)
            window = text[offset:candidate.end() + 1]
            for match in phonenumbers.PhoneNumberMatcher(window, self.region, leniency=phonenumbers.Leniency.VALID):
                yield offset + match.start, offset + match.end, "PHONE"

    def _spans(self, text: str) -> list[_Span]:
        spans: list[_Span] = []
        if "@" in text:
            spans.extend(_emails(text))
        if _DIGIT_RUN.search(text):
            for detect in (_ibans, _cards, _ssns):
                spans.extend(detect(text))
            spans.extend(self._phones(text, list(spans)))
        return spans

    def redact(self, text: str) -> str:
        """The text with every detected item replaced by its ``[KIND]`` mask."""
        if not self.enabled or not text:
            return text
        spans = self._spans(text)
        if not spans:
            return text
        # On overlap the span that starts first, then the longest, wins: an IBAN is not also a phone number.
        out: list[str] = []
        taken_until = 0
        for start, end, label in sorted(spans, key=lambda s: (s[0], -s[1])):
            if start < taken_until:  # overlapping detections: mask their union, never leave a tail showing
                taken_until = max(taken_until, end)
                continue
            out.append(text[taken_until:start])
            out.append(f"[{label}]")
            taken_until = end
        out.append(text[taken_until:])
        return "".join(out)

    def redact_obj(self, obj: Any) -> Any:
        """A copy of ``obj`` (dicts, lists, tuples, nested) with every string value redacted; keys are kept."""
        if not self.enabled:
            return obj
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, dict):
            return {key: self.redact_obj(value) for key, value in obj.items()}
        if isinstance(obj, list):
            return [self.redact_obj(value) for value in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact_obj(value) for value in obj)
        return obj


def redact_processor(redactor: Redactor) -> Callable[[Any, str, dict[str, Any]], dict[str, Any]]:
    """A structlog processor masking every string in the event; put it before the renderer."""

    def _redact_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        return redactor.redact_obj(event)

    return _redact_event
