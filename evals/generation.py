"""Generation items: guard answers a question through the full pipeline and is scored on the answer.

The answer judged is the one the app's user receives (a held answer under the
``block`` review policy is judged as held), so correctness and review rate
describe the same experience.
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.evals.judge import FactJudge
from guard.experiments.assign import with_system_prompt
from guard.evals.results import GenerationResult
from guard.evals.runner import require_layers_ok
from guard.evals.suite import GenerationRow
from guard.metadata import Citation, UncitedSentence
from guard.pipeline import Guard


class GenerationEvaluator:
    def __init__(self, guard: Guard, judge: FactJudge, system_prompt: str | None = None):
        self.guard = guard
        self.judge = judge
        self.system_prompt = system_prompt  # an experiment variant's prompt, as the proxy would send it

    async def evaluate(self, row: GenerationRow) -> GenerationResult:
        messages = [{"role": "user", "content": row.question}]
        if self.system_prompt is not None:
            messages = with_system_prompt(messages, self.system_prompt)
        completion = await self.guard.acomplete(messages)
        meta = completion.guard
        require_layers_ok(meta)
        answer = completion.choices[0].message.content or ""
        judgement = await self.judge.judge(row.facts, answer) if row.facts else None
        cited = sorted({c.source_id for c in meta.citations if c.valid and c.source_id})
        usage = meta.usage
        return GenerationResult(
            id=row.id,
            question=row.question,
            answer=answer,
            confidence=meta.confidence,
            tier=meta.tier,
            flagged=meta.tier == "low" or bool(meta.unsupported),
            review_required=meta.review.required,
            facts=judgement.verdicts if judgement else [],
            fact_recall=_share([v.supported for v in judgement.verdicts]) if judgement else None,
            citation_recall=citation_recall(meta.citations, meta.uncited),
            citation_precision=citation_precision(meta.citations),
            cited_sources=cited,
            source_recall=source_recall(row.expected_sources, cited),
            latency_ms=usage.latency_ms.total,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=None if usage.cost_usd is None else usage.cost_usd + usage.verification_cost_usd,
            judge_cost_usd=judgement.cost_usd if judgement else 0.0,
        )

    def failure(self, row: GenerationRow, error: str) -> GenerationResult:
        return GenerationResult(id=row.id, question=row.question, error=error)


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


# ALCE from the per-citation verdicts guard returns. A citation's ``supports`` is its source checked alone, so a
# sentence that only the union of its several sources supports counts as unsupported here: with several markers on
# a sentence both figures are lower bounds of ALCE's; with one marker they are exact.


def citation_recall(citations: list[Citation], uncited: Sequence[UncitedSentence] = ()) -> float | None:
    """Share of cited sentences their citations support; sentences flagged for lacking a required citation count 0."""
    supported: dict[int, bool] = {u.sentence: False for u in uncited}
    for c in citations:
        if c.sentence is not None:
            supported[c.sentence] = supported.get(c.sentence, False) or bool(c.valid and c.supports)
    return _share(list(supported.values()))


def citation_precision(citations: list[Citation]) -> float | None:
    """Share of citation markers whose source supports their sentence; a marker pointing nowhere earns nothing."""
    return _share([bool(c.valid and c.supports) for c in citations if c.marker])


def source_recall(expected: list[str], cited: list[str]) -> float | None:
    """Share of expected documents cited.

    A chunk id ``doc.md#c2`` cites ``doc.md``; an entry of a JSON Lines file,
    ``faq.jsonl:faq-1#c0``, cites both ``faq.jsonl:faq-1`` and ``faq.jsonl``.
    """
    if not expected:
        return None
    documents = {source.split("#", 1)[0] for source in cited}
    documents |= {doc.split(":", 1)[0] for doc in documents}
    return _share([doc in documents for doc in expected])
