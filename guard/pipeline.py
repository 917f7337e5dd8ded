"""One request, start to end: grounding, model call(s), verification, confidence, tier, review, record."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from guard.confidence import ConfidenceModel
from guard.config import GuardConfig, load_config
from guard.layers import default_layers
from guard.layers.base import Layer, Phase, Skip
from guard.llm import Completion, ModelClient, cost_from_tokens
from guard.logs import configure_logging, get_logger
from guard.metadata import GuardMetadata, GuardUsage, LatencyMs, LayerReport, Review
from guard.records import RecordStore
from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk, build_chunk, build_completion
from guard.review import HELD_MESSAGE, ReviewQueue, needs_review
from guard.sqlite import Database
from guard.state import RequestState, Source
from guard.tiers import tier_for, ux_for

log = get_logger()


def new_request_id() -> str:
    return "gr_" + uuid.uuid4().hex[:24]


class Guard:
    """The core: wraps model calls in the layered defenses and returns accountable answers.

    Build one per process and share it; heavy parts (models, indexes) load once.
    """

    def __init__(
        self,
        config: GuardConfig | None = None,
        *,
        layers: Sequence[Layer] | None = None,
        model_client: ModelClient | None = None,
        confidence: ConfidenceModel | None = None,
    ):
        self.config = config or load_config()
        configure_logging(self.config.logging)
        self.llm = model_client or ModelClient(self.config.models)
        self.layers = list(layers) if layers is not None else default_layers(self.config)
        self.confidence = confidence or ConfidenceModel()
        db = Database(self.config.telemetry.database) if self.config.telemetry.enabled else Database(":memory:")
        self.records = RecordStore(db)
        self.reviews = ReviewQueue(db)

    # -- the three ways in -------------------------------------------------

    async def acomplete(self, messages: list[dict[str, Any]], model: str | None = None, **params: Any) -> GuardedChatCompletion:
        """A guarded chat completion; same arguments as the OpenAI SDK's ``create``."""
        started = time.perf_counter()
        state = self._new_state(messages, model, params)
        await self._run_phase(state, "before_model")
        choices = await self._generate(state)
        await self._run_phase(state, "after_model")
        meta = self._verdict(state, started)
        choices = _answer_first(choices, state.answer_index)[: max(1, int(params.get("n") or 1))]
        if meta.review.policy == "block" and meta.review.required:
            choices = [{"message": {"role": "assistant", "content": HELD_MESSAGE}, "finish_reason": "content_filter"}]
        self._finish(meta, streamed=False)
        return build_completion(meta, choices, created=int(time.time()))

    async def astream(self, messages: list[dict[str, Any]], model: str | None = None,
                      **params: Any) -> AsyncIterator[GuardedChatCompletionChunk]:
        """Stream a guarded completion: ``buffer`` verifies then sends; ``provisional`` sends, then the verdict.

        Either way the verdict arrives as a final chunk carrying ``guard``.
        """
        started = time.perf_counter()
        client_wants_usage = bool((params.pop("stream_options", None) or {}).get("include_usage"))
        params.pop("stream", None)
        state = self._new_state(messages, model, params)
        await self._run_phase(state, "before_model")
        chunk_id, created = "chatcmpl-" + state.request_id[3:], int(time.time())

        if state.refusal is None and self.config.streaming.mode == "provisional":
            async for chunk in self._stream_provisional(state, chunk_id, created):
                yield chunk
            await self._run_phase(state, "after_model")
            meta = self._verdict(state, started)
        else:
            await self._generate(state)
            await self._run_phase(state, "after_model")
            meta = self._verdict(state, started)
            held = meta.review.policy == "block" and meta.review.required
            text = HELD_MESSAGE if held else state.answer
            yield build_chunk(chunk_id, created, meta.model, delta={"role": "assistant", "content": text})
            yield build_chunk(chunk_id, created, meta.model, delta={}, finish_reason="content_filter" if held else "stop")

        self._finish(meta, streamed=True)
        yield build_chunk(chunk_id, created, meta.model, guard=meta, usage=_usage(meta) if client_wants_usage else None)

    async def acheck(self, response: str, sources: Sequence[str | Source | dict[str, Any]],
                     question: str | None = None) -> GuardMetadata:
        """Verify an existing answer against given sources, without calling a model."""
        started = time.perf_counter()
        messages = [{"role": "user", "content": question}] if question else []
        state = self._new_state(messages, "none", {})
        state.sources = [_as_source(s, i) for i, s in enumerate(sources, 1)]
        state.layers["grounding"] = LayerReport(status="skipped", reason="sources given to check()")
        state.answer = response
        state.samples = [response]
        await self._run_phase(state, "after_model")
        meta = self._verdict(state, started, route=False)
        meta.model = None
        return meta

    def check(self, response: str, sources: Sequence[str | Source | dict[str, Any]], question: str | None = None) -> GuardMetadata:
        """Synchronous ``acheck``."""
        return _run_sync(self.acheck(response, sources, question))

    # -- steps -------------------------------------------------------------

    def _new_state(self, messages: list[dict[str, Any]], model: str | None, params: dict[str, Any]) -> RequestState:
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise ValueError("messages must be a list of {'role': ..., 'content': ...} mappings")
        return RequestState(
            request_id=new_request_id(), config=self.config, model=model or self.config.models.default,
            messages=messages, params=params,
        )

    def _start_extra_samples(self, state: RequestState) -> asyncio.Future[Completion] | None:
        """Self-consistency samples, drawn at the consistency temperature beside the primary answer."""
        if not self.config.consistency.enabled:
            return None
        params = {**_without_n(state.params), "temperature": self.config.consistency.temperature}
        return asyncio.ensure_future(self.llm.complete(
            state.prompt_messages, model=state.model, n=self.config.consistency.samples - 1, **params))

    async def _collect_extra_samples(self, state: RequestState, extras: asyncio.Future[Completion] | None) -> list[dict[str, Any]]:
        if extras is None:
            return []
        try:
            more = await extras
        except Exception as exc:  # noqa: BLE001 - the primary answer stands; consistency reports the error
            state.layers["consistency"] = LayerReport(status="error", reason=f"extra samples failed: {exc}")
            return []
        state.samples += more.texts
        state.usage.add(more.prompt_tokens, more.completion_tokens, more.cost_usd)
        return more.choices

    async def _generate(self, state: RequestState) -> list[dict[str, Any]]:
        """The primary answer (``n`` choices when the caller asked) and any extra samples, as OpenAI choices."""
        if state.refusal is not None:
            state.answer = state.refusal
            return [{"message": {"role": "assistant", "content": state.refusal}, "finish_reason": "stop"}]
        extras = self._start_extra_samples(state)
        try:
            primary = await self.llm.complete(state.prompt_messages, model=state.model,
                                              n=int(state.params.get("n") or 1), **_without_n(state.params))
        except BaseException:
            if extras is not None:
                extras.cancel()
            raise
        state.samples = primary.texts
        state.answer = primary.texts[0]
        state.served_model = primary.model
        state.usage.add(primary.prompt_tokens, primary.completion_tokens, primary.cost_usd)
        state.usage.model_ms += primary.ms
        return primary.choices + await self._collect_extra_samples(state, extras)

    async def _stream_provisional(self, state: RequestState, chunk_id: str, created: int) -> AsyncIterator[GuardedChatCompletionChunk]:
        extras = self._start_extra_samples(state)
        t0 = time.perf_counter()
        name, stream = await self.llm.stream(state.prompt_messages, model=state.model, **_without_n(state.params))
        parts: list[str] = []
        usage = None
        async for raw in stream:
            if getattr(raw, "usage", None):
                usage = raw.usage
            if not raw.choices:
                continue  # the usage-only chunk we asked for; the client gets usage in the verdict
            choice = raw.choices[0]
            text = getattr(choice.delta, "content", None) or ""
            parts.append(text)
            yield build_chunk(chunk_id, created, name, delta=choice.delta.model_dump(exclude_none=True),
                              finish_reason=choice.finish_reason)
        state.usage.model_ms += (time.perf_counter() - t0) * 1000
        state.served_model = name
        state.answer = "".join(parts)
        state.answer_delivered = True
        state.samples = [state.answer]
        if usage is not None:
            p, c = usage.prompt_tokens or 0, usage.completion_tokens or 0
            state.usage.add(p, c, cost_from_tokens(name, p, c))
        await self._collect_extra_samples(state, extras)

    async def _run_phase(self, state: RequestState, phase: Phase) -> None:
        for layer in self.layers:
            if layer.phase != phase or layer.name in state.layers:
                continue
            if state.refusal is not None and phase == "after_model":
                state.layers[layer.name] = LayerReport(status="skipped", reason="no model answer: no source found")
                continue
            t0 = time.perf_counter()
            try:
                await layer.run(state)
                report = LayerReport(status="ok")
            except Skip as skip:
                report = LayerReport(status="skipped", reason=skip.reason)
            except Exception as exc:  # noqa: BLE001 - a broken layer is reported, never fatal
                log.warning("layer_error", request_id=state.request_id, layer=layer.name, error=repr(exc))
                report = LayerReport(status="error", reason=f"{type(exc).__name__}: {exc}")
            report.ms = round((time.perf_counter() - t0) * 1000, 2)
            state.layers[layer.name] = report

    def _verdict(self, state: RequestState, started: float, route: bool = True) -> GuardMetadata:
        confidence = self.confidence(state.signals)
        tier = tier_for(confidence, self.config.tiers)
        review = Review(required=False)
        if route and needs_review(tier, state.refusal is not None, self.config.review):
            review = self.reviews.submit(
                request_id=state.request_id, policy=self.config.review.policy or "flag", tier=tier, confidence=confidence,
                question=_last_user_text(state.messages), draft=state.answer,
                context={"signals": state.signals, "sources": [s.id for s in state.sources]},
            )
        total = (time.perf_counter() - started) * 1000
        model_ms = state.usage.model_ms
        return GuardMetadata(
            request_id=state.request_id,
            model=state.served_model or state.model,
            confidence=None if confidence is None else round(confidence, 4),
            tier=tier,
            ux=ux_for(tier, self.config.tiers),
            signals={k: round(v, 4) for k, v in state.signals.items()},
            citations=state.citations,
            unsupported=state.unsupported,
            layers=state.layers,
            review=review,
            usage=GuardUsage(
                latency_ms=LatencyMs(total=round(total, 2), model=round(model_ms, 2), guard=round(total - model_ms, 2)),
                prompt_tokens=state.usage.prompt_tokens,
                completion_tokens=state.usage.completion_tokens,
                cost_usd=state.usage.cost_usd,
                verification_cost_usd=state.usage.verification_cost_usd,
            ),
        )

    def _finish(self, meta: GuardMetadata, streamed: bool) -> None:
        if self.config.telemetry.enabled:
            self.records.record(meta, streamed=streamed)
        log.info("guarded_completion", request_id=meta.request_id, model=meta.model, tier=meta.tier,
                 confidence=meta.confidence, latency_ms=meta.usage.latency_ms.total, streamed=streamed,
                 review=meta.review.id)


def _without_n(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "n"}


def _answer_first(choices: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    if 0 < index < len(choices):
        return [choices[index]] + choices[:index] + choices[index + 1:]
    return choices


def _usage(meta: GuardMetadata) -> dict[str, int]:
    u = meta.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens}


def _last_user_text(messages: list[dict[str, Any]]) -> str | None:
    for m in reversed(messages):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return None


def _as_source(item: str | Source | dict[str, Any], number: int) -> Source:
    if isinstance(item, Source):
        return item
    if isinstance(item, str):
        return Source(id=f"source-{number}", text=item)
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return Source(id=str(item.get("id", f"source-{number}")), text=item["text"], title=item.get("title"))
    raise ValueError(f"source {number} must be a string, a Source or a mapping with 'text'")


def _run_sync(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    raise RuntimeError("called a synchronous guard method inside a running event loop; await the async one instead")
