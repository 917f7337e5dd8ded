"""Support judged by any chat model through guard's ModelClient, with a strict JSON verdict.

A reply that is not exactly the verdict object (fences aside) is a failure: the
batch raises ``VerificationError`` and the layer reports ``error``. A judge that
cannot be read is never taken to mean "supported".
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from guard.llm import ModelClient
from guard.verify.base import SupportScores, SupportVerifier, VerificationError

MAX_EVIDENCE_CHARS = 12_000
MAX_CONCURRENT_CALLS = 8
SYSTEM_PROMPT = (
    "You check whether a claim is supported by the evidence. A claim is supported only if everything it states "
    "is stated in, or follows directly from, the evidence; anything missing or contradicted makes it unsupported. "
    'Reply with one JSON object and nothing else: {"supported": true or false, "confidence": a number from 0 to 1 '
    "saying how sure you are of that verdict}."
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def judge_messages(claim: str, evidence: list[str]) -> list[dict[str, str]]:
    text = "\n\n".join(evidence)
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + " …"
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Evidence:\n{text}\n\nClaim: {claim}"}]


def parse_verdict(reply: str) -> float:
    """Probability of support from the judge's reply; ``VerificationError`` when it is not the verdict object."""
    body = reply.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        verdict: Any = json.loads(body)
    except json.JSONDecodeError:
        raise VerificationError(f"judge reply is not JSON: {reply[:200]!r}") from None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("supported"), bool):
        raise VerificationError(f"judge reply lacks a boolean 'supported': {reply[:200]!r}")
    confidence = verdict.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise VerificationError(f"judge 'confidence' must be a number from 0 to 1: {reply[:200]!r}")
    # A judge unsure of "unsupported" leaves some chance of support, and vice versa.
    return float(confidence) if verdict["supported"] else 1.0 - float(confidence)


class LLMJudgeVerifier(SupportVerifier):
    name = "llm_judge"

    def __init__(self, client: ModelClient, model: str):
        self.client = client
        self.model = model

    async def _score(self, pairs: list[tuple[str, list[str]]]) -> SupportScores:
        gate = asyncio.Semaphore(MAX_CONCURRENT_CALLS)

        async def judge(claim: str, evidence: list[str]) -> tuple[float, float]:
            async with gate:
                completion = await self.client.complete(judge_messages(claim, evidence), model=self.model,
                                                        temperature=0, response_format={"type": "json_object"})
            return parse_verdict(completion.texts[0]), completion.cost_usd or 0.0

        results = await asyncio.gather(*(judge(c, e) for c, e in pairs))
        return SupportScores([p for p, _ in results], cost_usd=sum(c for _, c in results))
