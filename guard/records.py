"""Every answer (and every failed call) as one ``RequestRecord``: the raw material of metrics and health reports."""

from __future__ import annotations

import time

from guard.metadata import GuardMetadata
from guard.pii import Redactor
from guard.state import RequestState
from guard.store import RequestRecord


def request_record(state: RequestState, *, started: float, streamed: bool, question: str | None, redactor: Redactor,
                   meta: GuardMetadata | None = None, delivered: bool = True,
                   error: BaseException | None = None) -> RequestRecord:
    """The record of one call; ``meta`` is None when it failed before a verdict, ``error`` says why.

    Only the error message is redacted here (failed calls are rare, and the span carries it);
    the answer, question and claims are redacted by ``redact_record`` in the writer's thread.
    """
    usage = state.usage
    if meta is not None:
        total = meta.usage.latency_ms.total
    else:
        total = round((time.perf_counter() - started) * 1000, 2)
    cause = getattr(error, "cause", None) or error  # ModelCallError wraps what really went wrong
    return RequestRecord(
        request_id=state.request_id,
        created_at=state.created_at,
        product=state.config.product.name,
        model_requested=state.model,
        model_served=state.served_model,
        streamed=streamed,
        tier=meta.tier if meta else None,
        confidence=meta.confidence if meta else None,
        signals=meta.signals if meta else dict(state.signals),
        layers={name: report.model_dump(exclude_none=True) for name, report in state.layers.items()},
        citations=[c.model_dump(exclude_none=True) for c in state.citations],
        unsupported=[u.model_dump() for u in state.unsupported],
        latency_total_ms=total,
        latency_model_ms=round(usage.model_ms, 2),
        latency_guard_ms=round(total - usage.model_ms, 2),
        ttft_ms=state.ttft_ms,
        prompt_tokens=usage.prompt_tokens + usage.samples_prompt_tokens,  # every token paid for
        completion_tokens=usage.completion_tokens + usage.samples_completion_tokens,
        cost_usd=usage.cost_usd,
        samples_cost_usd=usage.samples_cost_usd,
        verification_cost_usd=usage.verification_cost_usd,
        error_class=None if cause is None else type(cause).__name__,
        error_message=None if error is None else redactor.redact(str(error))[:2000],
        review_id=meta.review.id if meta else None,
        review_policy=meta.review.policy if meta and meta.review.required else None,
        question=question,
        answer=state.answer or None,
        delivered=delivered and error is None,
        key_name=state.key_name,
        calibration_id=state.calibration.id if state.calibration else None,
        experiment=state.arm.name if state.arm else None,
        variant=state.arm.variant if state.arm else None,
        user=state.user[:200] if state.user else None,
    )


def redact_record(record: RequestRecord, redactor: Redactor) -> RequestRecord:
    """The record as it may be stored: its texts masked. Costs about 1 ms per KB, so it runs off the event loop."""
    if not redactor.enabled:
        return record
    return record.model_copy(update={
        "question": None if record.question is None else redactor.redact(record.question),
        "answer": None if record.answer is None else redactor.redact(record.answer),
        "unsupported": redactor.redact_obj(record.unsupported),
        "layers": redactor.redact_obj(record.layers),  # a layer's reason may quote the answer
        "user": None if record.user is None else redactor.redact(record.user),
    })
