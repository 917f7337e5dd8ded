"""What ``pii_handling: redact`` costs per stored text: one call of ``Redactor.redact`` on about 1 KB.

Three texts: prose without digits (the detectors that need numbers are skipped), a
support answer with prices, SKUs, dates and versions but no personal data (the common
case: each phone-like stretch goes through libphonenumber), and a text dense with
e-mail addresses, phone, card and IBAN numbers. Nothing here is asserted.

    python -m benchmarks.pii_redact [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from guard.config import ProductSpec
from guard.pii import Redactor

PROSE = ("To reset the device, hold the power button until the light blinks twice, then wait for the chime. "
         "If the light stays amber, unplug it for a minute and try again; the settings are kept. ")
BUSINESS = ("Hold the power button for 10 seconds until the LED blinks. If ERR-4012 persists after firmware 2.14.3, "
            "the plan costs $3.99 a month; order LUM-200 ships in 3-5 days (released 2024-03-15). ")
PERSONAL = BUSINESS + ("Contact jane.doe@example.com or (415) 555-2671; card 4111 1111 1111 1111, "
                       "IBAN DE89 3704 0044 0532 0130 00. ")


def per_call_us(redactor: Redactor, text: str, calls: int) -> tuple[float, float]:
    """Median and 95th percentile of one call, in microseconds."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        redactor.redact(text)
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    redactor = Redactor(ProductSpec(pii_handling="redact"))
    for name, base in [("prose, no digits", PROSE), ("business numbers, no PII", BUSINESS), ("dense PII", PERSONAL)]:
        text = (base * (1024 // len(base) + 1))[:1024]
        p50, p95 = per_call_us(redactor, text, args.calls)
        masks = sum(redactor.redact(text).count(f"[{kind}]") for kind in ("EMAIL", "PHONE", "CARD", "IBAN", "SSN"))
        print(f"{name:26s} {len(text)} chars  p50 {p50:7.0f} us  p95 {p95:7.0f} us  masks {masks}")


if __name__ == "__main__":
    main()
