"""One request, start to end: grounding, model call(s), verification, confidence, tier, review, record."""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from datetime import timedelta
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any

from guard.calibration import ActiveCalibration, configured_calibration
from guard.confidence import ConfidenceModel
from guard.config import GuardConfig, load_config
from guard.errors import InvalidRequest, StoreUnavailable, UnknownRequest
from guard.layers import default_layers
from guard.layers.base import Layer, Phase, Skip
from guard.layers.token_confidence import (end_stream_logprobs, keep_logprobs, read_stream_logprobs,
                                           request_logprobs)
from guard.llm import Completion, ModelClient, supports_logprobs
from guard.openai_direct import token_cost
from guard.logs import bind_request_id, get_logger
from guard.messages import answer_text, last_user_text
from guard.metadata import ExperimentArm, GuardMetadata, GuardUsage, LatencyMs, LayerReport, Review, Tier
from guard.metrics import GuardMetrics
from guard.pii import Redactor, redact_processor
from guard.records import redact_record, request_record
from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk, build_chunk, build_completion
from guard.retention import Purger
from guard.review import (HELD_MESSAGE, is_audit_sample, needs_review, record_decision, redact_review, review_item,
                          withheld_choice)
from guard.state import RequestState, Source
from guard.store import Decision, FeedbackRecord, RequestRecord, ReviewItem, Store
from guard.store.lazy import LazyStore
from guard.store.writer import RecordWriter
from guard.tiers import tier_for, ux_for
from guard.tracing import emit_span
from guard.webhook import WebhookSender


def new_request_id() -> str:
    """``gr_`` and 24 random hex digits, as ``uuid4().hex[:24]`` gave, at a third of its cost."""
    return "gr_" + os.urandom(12).hex()


class Guard:
    """The core: wraps model calls in the layered defenses and returns accountable answers.

    Build one per process and share it; heavy parts (models, indexes) load once.
    """

    def __init__(
        self,
        config: GuardConfig | str | os.PathLike[str] | None = None,
        *,
        layers: Sequence[Layer] | None = None,
        model_client: ModelClient | None = None,
        confidence: ConfidenceModel | None = None,
        store: Store | None = None,
        metrics: GuardMetrics | None = None,
    ):
        self.config = config if isinstance(config, GuardConfig) else load_config(config)
        self.llm = model_client or ModelClient(self.config.models)
        self.layers = list(layers) if layers is not None else default_layers(self.config)
        self.confidence = confidence or ConfidenceModel(verifier=self.config.support.verifier,
                                                           precision=self.config.support.precision)
        telemetry = self.config.telemetry
        # The review queue always lives in the store; telemetry.enabled only turns request records off.
        # Opened on first use: building a Guard creates no file (guard.store.lazy).
        self.store: Store = store or LazyStore(telemetry.database, busy_timeout_s=telemetry.busy_timeout_s)  # type: ignore[assignment]
        self.metrics = metrics or GuardMetrics()
        self.redactor = Redactor(self.config)
        self.log = get_logger(redact_processor(self.redactor))  # events carry user text: masked like the records
        support = self.config.support
        self.calibration = ActiveCalibration(self.store, configured_calibration(support.calibration, support.verifier),
                                             support.verifier, log=self.log)
        self.calibration.refresh()  # now, so the first answer is calibrated; a store not yet created stays so
        self.webhook = WebhookSender(self.config, self.store)
        self.purger = Purger(self.store, self.config)
        _warn_if_decisions_are_only_polled(self.config, self.log)
        # Records are redacted in the writer's thread; by a partial, as a bound method would keep the Guard alive.
        redact = partial(redact_record, redactor=self.redactor)
        self.writer = RecordWriter(self.store, queue_size=telemetry.queue_size, batch_size=telemetry.batch_size,
                                   on_failure=self.metrics.store_write_failed,
                                   prepare=redact) if telemetry.enabled else None
        if self.writer is not None:  # a script that never calls close() still gets its last records written
            weakref.finalize(self, self.writer.close, 5.0)

    # -- the three ways in -------------------------------------------------

    async def acomplete(self, messages: list[dict[str, Any]], model: str | None = None, *,
                        arm: ExperimentArm | None = None, user: str | None = None,
                        **params: Any) -> GuardedChatCompletion:
        """A guarded chat completion; same arguments as the OpenAI SDK's ``create``.

        ``arm`` and ``user`` are recorded (the experiment variant that serves this request, the app's user);
        neither reaches the model.
        """
        started = time.perf_counter()
        state = self._new_state(messages, model, params, arm=arm, user=user)
        try:
            await self._run_phase(state, "before_model")
            choices = await self._generate(state)
            await self._run_phase(state, "after_model")
            meta = await self._verdict(state, started, route=not state.tool_calls_only)
        except BaseException as exc:
            self._fail(state, started, exc, streamed=False)
            raise
        choices = _answer_first(choices, state.answer_index)[: max(1, int(params.get("n") or 1))]
        held = meta.review.held
        if held:
            choices = [withheld_choice(HELD_MESSAGE, state.params, finish_reason="content_filter")]
        self._finish(state, meta, started, streamed=False, delivered=not held)
        return build_completion(meta, choices, created=int(time.time()))

    async def astream(self, messages: list[dict[str, Any]], model: str | None = None, *,
                      arm: ExperimentArm | None = None, user: str | None = None,
                      **params: Any) -> AsyncIterator[GuardedChatCompletionChunk]:
        """Stream a guarded completion: ``buffer`` verifies then sends; ``provisional`` sends, then the verdict.

        Either way the verdict arrives as a final chunk carrying ``guard``. A
        ``block`` review policy always buffers: a held answer must not have been
        streamed. When the consumer stops reading (client gone, ``aclose``), the
        upstream stream and any extra samples are cancelled and the partial
        answer is still recorded, marked as not delivered.
        """
        started = time.perf_counter()
        client_wants_usage = bool((params.pop("stream_options", None) or {}).get("include_usage"))
        params.pop("stream", None)
        state = self._new_state(messages, model, params, arm=arm, user=user)
        chunk_id, created = "chatcmpl-" + state.request_id[3:], int(time.time())
        provisional = self.config.streaming.mode == "provisional" and self.config.review.policy != "block"
        try:
            await self._run_phase(state, "before_model")
            if state.refusal is None and provisional:
                async with aclosing(self._stream_provisional(state, chunk_id, created, started)) as relayed:
                    async for chunk in relayed:  # closed when we are, not when the garbage collector gets to it
                        yield chunk
                await self._run_phase(state, "after_model")
                meta = await self._verdict(state, started, route=not state.tool_calls_only)
            else:
                choices = await self._generate(state)
                await self._run_phase(state, "after_model")
                meta = await self._verdict(state, started, route=not state.tool_calls_only)
                held = meta.review.held
                choice = _answer_first(choices, state.answer_index)[0]
                if held:
                    choice = withheld_choice(HELD_MESSAGE, state.params, finish_reason="content_filter")
                state.ttft_ms = round((time.perf_counter() - started) * 1000, 2)
                yield build_chunk(chunk_id, created, meta.model, delta=_as_delta(choice["message"]))
                yield build_chunk(chunk_id, created, meta.model, delta={},
                                  finish_reason=choice.get("finish_reason") or "stop")
        except (GeneratorExit, asyncio.CancelledError):
            _detach(self._record_abandoned(state, started))
            raise
        except Exception as exc:
            self._fail(state, started, exc, streamed=True)
            raise
        held = meta.review.held
        self._finish(state, meta, started, streamed=True, delivered=not held)
        yield build_chunk(chunk_id, created, meta.model, guard=meta, usage=_usage(meta) if client_wants_usage else None)

    async def _record_abandoned(self, state: RequestState, started: float) -> None:
        """The record of a stream the client left: what was generated so far, not verified, not routed."""
        for layer in self.layers:
            if layer.phase == "after_model" and layer.name not in state.layers:
                state.layers[layer.name] = LayerReport(status="skipped", reason="client disconnected")
        self._finish(state, await self._verdict(state, started, route=False), started, streamed=True, delivered=False)

    async def acheck(self, response: str, sources: Sequence[str | Source | dict[str, Any]],
                     question: str | None = None, *, record: bool = False) -> GuardMetadata:
        """Verify an existing answer against given sources, without calling a model.

        ``record=True`` treats the answer as one guard served (the proxy's ``POST /v1/check``): it is recorded
        and routed to review by its tier. Off by default, so evals and calibration that check many answers
        leave neither records nor review items.
        """
        started = time.perf_counter()
        messages = [{"role": "user", "content": question}] if question else []
        state = self._new_state(messages, "none", {})
        state.sources = [_as_source(s, i) for i, s in enumerate(sources, 1)]
        state.layers["grounding"] = LayerReport(status="skipped", reason="sources given to check()")
        state.token_logprobs_reason = "check() verifies a given answer: no model call"
        state.answer = response
        state.samples = [response]
        try:
            await self._run_phase(state, "after_model")
            meta = await self._verdict(state, started, route=record)
        except BaseException as exc:
            if record:
                self._fail(state, started, exc, streamed=False)
            raise
        meta.model = None
        if record:
            self._finish(state, meta, started, streamed=False, delivered=not meta.review.held)
        return meta

    def check(self, response: str, sources: Sequence[str | Source | dict[str, Any]], question: str | None = None,
              *, record: bool = False) -> GuardMetadata:
        """Synchronous ``acheck``."""
        return _run_sync(self.acheck(response, sources, question, record=record))

    # -- start-up ----------------------------------------------------------

    def warm_up(self) -> dict[str, LayerReport]:
        """Load now what the enabled layers otherwise load on first use: the embedder, the knowledge base's
        index, the support verifier's models; each runs once on a sample.

        Never calls a model provider (no answer, no LLM judge). Blocking, seconds on a cold machine: run it
        in a thread (``awarm_up``) or before serving. Never done on import or construction. A layer that
        fails is logged and reported, not raised: it still loads on first use.
        """
        started = time.perf_counter()
        report: dict[str, LayerReport] = {}
        for layer in self.layers:
            warm = getattr(layer, "warm_up", None)
            if not callable(warm):
                continue
            t0 = time.perf_counter()
            status, reason = "ok", None
            try:
                warm()
            except Skip as skip:
                status, reason = "skipped", skip.reason
            except Exception as exc:  # noqa: BLE001 - a layer that cannot warm up may still load on first use
                self.log.warning("warm_up_failed", layer=layer.name, error=f"{type(exc).__name__}: {exc}")
                status, reason = "error", f"{type(exc).__name__}: {exc}"
            report[layer.name] = LayerReport(status=status, reason=reason, ms=round((time.perf_counter() - t0) * 1000, 2))
        self.log.info("warmed_up", ms=round((time.perf_counter() - started) * 1000, 2),
                      layers={name: r.status for name, r in report.items()})
        return report

    async def awarm_up(self) -> dict[str, LayerReport]:
        """``warm_up`` off the event loop."""
        return await asyncio.to_thread(self.warm_up)

    # -- steps -------------------------------------------------------------

    def _new_state(self, messages: list[dict[str, Any]], model: str | None, params: dict[str, Any], *,
                   arm: ExperimentArm | None = None, user: str | None = None) -> RequestState:
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise InvalidRequest("messages must be a list of {'role': ..., 'content': ...} mappings", "messages")
        n = params.get("n")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= self.config.models.max_n):
            raise InvalidRequest(f"n must be a whole number from 1 to {self.config.models.max_n} (models.max_n), "
                                 f"got {n!r}", "n")
        request_id = new_request_id()
        bind_request_id(request_id)  # an exception that escapes is logged with this id (adapters/server/errors.py)
        return RequestState(
            request_id=request_id, config=self.config, model=model or self.config.models.default,
            messages=messages, params=params, calibration=self.calibration.current(), arm=arm, user=user,
        )

    def _start_extra_samples(self, state: RequestState, logprobs: dict[str, Any]) -> asyncio.Future[Completion] | None:
        """Self-consistency samples, drawn at the consistency temperature beside the primary answer."""
        if not self.config.consistency.enabled:
            return None
        params = {**_without_n(state.params), **logprobs, "temperature": self.config.consistency.temperature}
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
        more.choices = keep_logprobs(state, more.choices)
        state.samples += [answer_text(c["message"], state.params) for c in more.choices]
        state.usage.add(more.prompt_tokens, more.completion_tokens, more.cost_usd, samples=True)
        return more.choices

    async def _generate(self, state: RequestState) -> list[dict[str, Any]]:
        """The primary answer (``n`` choices when the caller asked) and any extra samples, as OpenAI choices."""
        if state.refusal is not None:
            state.answer = state.refusal
            return [withheld_choice(state.refusal, state.params, finish_reason="stop")]
        logprobs = request_logprobs(state, supports_logprobs(state.model))  # VERIFIER: token confidence
        extras = self._start_extra_samples(state, logprobs)
        try:
            primary = await self.llm.complete(state.prompt_messages, model=state.model,
                                              n=int(state.params.get("n") or 1), **{**_without_n(state.params), **logprobs})
        except BaseException:
            if extras is not None:
                extras.cancel()
            raise
        # The client's own n choices are not samples: only the first is checked, and their order is kept.
        primary.choices = keep_logprobs(state, primary.choices, samples=1)
        # a forced output tool's arguments, or a JSON answer's fields, are the answer: verified as such
        state.samples = [answer_text(primary.choices[0]["message"], state.params)]
        state.answer = state.samples[0]
        state.served_model = primary.model
        state.usage.add(primary.prompt_tokens, primary.completion_tokens, primary.cost_usd)
        state.usage.model_ms += primary.ms
        if not state.answer.strip():  # the reply only calls tools: nothing to verify
            state.tool_calls_only = True
            if extras is not None:
                extras.cancel()  # samples of a tool call have nothing to agree on
            return primary.choices
        return primary.choices + await self._collect_extra_samples(state, extras)

    async def _stream_provisional(self, state: RequestState, chunk_id: str, created: int,
                                  started: float) -> AsyncIterator[GuardedChatCompletionChunk]:
        """Relay the upstream's chunks as they come; on any early exit, close the upstream and drop the samples."""
        logprobs = request_logprobs(state, supports_logprobs(state.model))  # as unstreamed: the same signals
        extras = self._start_extra_samples(state, logprobs)
        t0 = time.perf_counter()
        stream = None
        parts: list[str] = []
        calls: dict[int, dict[str, str]] = {}  # tool calls rebuilt from their deltas, by index
        usage = None
        try:
            name, stream = await self.llm.stream(state.prompt_messages, model=state.model,
                                                 **{**_without_n(state.params), **logprobs})
            state.served_model = name
            async for raw in stream:
                if getattr(raw, "usage", None):
                    usage = raw.usage
                if not raw.choices:
                    continue  # the usage-only chunk we asked for; the client gets usage in the verdict
                choice = raw.choices[0]
                read_stream_logprobs(state, getattr(choice, "logprobs", None))
                delta = choice.delta.model_dump(exclude_none=True)
                text = delta.get("content") or ""
                _add_tool_call_deltas(calls, delta.get("tool_calls"))
                if state.ttft_ms is None and (text or calls):
                    state.ttft_ms = round((time.perf_counter() - started) * 1000, 2)
                parts.append(text)
                state.answer = "".join(parts)  # kept current: a client that leaves still gets its partial recorded
                yield build_chunk(chunk_id, created, name, delta=delta, finish_reason=choice.finish_reason,
                                  logprobs=None if state.logprobs_requested else getattr(choice, "logprobs", None))
        except BaseException:
            if extras is not None:
                extras.cancel()
            if stream is not None:
                _detach(stream.aclose())  # not awaited here: a cancelled task cannot wait for anything
            raise
        finally:
            state.usage.model_ms += (time.perf_counter() - t0) * 1000
        state.answer_delivered = True
        end_stream_logprobs(state)
        state.answer = answer_text({"content": state.answer, "tool_calls": [{"function": c} for c in calls.values()]},
                                   state.params)
        state.samples = [state.answer]
        if not state.sample_logprobs:
            state.sample_logprobs.append(None)  # the streamed answer's place: extra samples follow it
        state.tool_calls_only = bool(calls) and not state.answer.strip()
        if usage is not None:
            p, c = usage.prompt_tokens or 0, usage.completion_tokens or 0
            state.usage.add(p, c, token_cost(name, p, c))
        if state.tool_calls_only:
            if extras is not None:
                extras.cancel()
            return
        await self._collect_extra_samples(state, extras)

    async def _run_phase(self, state: RequestState, phase: Phase) -> None:
        for layer in self.layers:
            if layer.phase != phase or layer.name in state.layers:
                continue
            if state.refusal is not None and phase == "after_model":
                state.layers[layer.name] = LayerReport(status="skipped", reason="no model answer: no source found")
                continue
            if state.tool_calls_only and phase == "after_model":
                state.layers[layer.name] = LayerReport(status="skipped", reason="tool call, nothing to verify")
                continue
            t0 = time.perf_counter()
            status, reason = "ok", None
            try:
                await layer.run(state)
            except Skip as skip:
                status, reason = "skipped", skip.reason
            except Exception as exc:  # noqa: BLE001 - a broken layer is reported, never fatal
                self.log.warning("layer_error", request_id=state.request_id, layer=layer.name, error=repr(exc))
                status, reason = "error", f"{type(exc).__name__}: {exc}"
            state.layers[layer.name] = LayerReport(status=status, reason=reason,
                                                   ms=round((time.perf_counter() - t0) * 1000, 2))

    async def _verdict(self, state: RequestState, started: float, route: bool = True) -> GuardMetadata:
        """Confidence, tier and, when the tier asks for it, the review item (durable before this returns)."""
        calibrated = state.calibration is not None  # a calibration replaces the support map (guard.calibration)
        if state.tool_calls_only:
            confidence = None
        else:
            confidence = self.confidence(state.signals, state.calibration) if calibrated else self.confidence(state.signals)
        flagged = bool(state.unsupported) if "support" in state.signals else None
        tier: Tier = "unverified" if state.tool_calls_only else tier_for(confidence, self.config.tiers, flagged)
        meta = GuardMetadata(
            request_id=state.request_id,
            model=state.served_model or state.model,
            confidence=None if confidence is None else round(confidence, 4),
            tier=tier,
            ux=ux_for(tier, self.config.tiers),
            signals={k: round(v, 4) for k, v in state.signals.items()},
            citations=state.citations,
            unsupported=state.unsupported,
            uncited=state.uncited,
            layers=state.layers,
            usage=GuardUsage(
                prompt_tokens=state.usage.prompt_tokens,
                completion_tokens=state.usage.completion_tokens,
                samples_prompt_tokens=state.usage.samples_prompt_tokens,
                samples_completion_tokens=state.usage.samples_completion_tokens,
                cost_usd=state.usage.model_cost_usd,
                verification_cost_usd=state.usage.verification_cost_usd,
            ),
            experiment=state.arm,
        )
        routed = route and needs_review(tier, state.refusal is not None, self.config.review)
        audit = route and is_audit_sample(state, self.config.review)
        if routed or audit:
            review = await self._queue_for_review(state, meta, routed=routed, audit=audit)
            if routed:  # an audit-only item is guard's own business: the app is not told, nothing is held
                meta.review = review
        total, model_ms = (time.perf_counter() - started) * 1000, state.usage.model_ms
        meta.usage.latency_ms = LatencyMs(total=round(total, 2), model=round(model_ms, 2), guard=round(total - model_ms, 2))
        return meta

    async def _queue_for_review(self, state: RequestState, meta: GuardMetadata, *, routed: bool = True,
                                audit: bool = False) -> Review:
        """Under ``block`` the draft exists only in the queue: if it cannot be stored, the call fails.

        Under ``flag`` (and for audit-only items) the user already has the answer, so a store failure is
        logged and counted instead.
        """
        item = review_item(state, meta, last_user_text(state.messages), self.config, routed=routed, audit=audit)
        try:
            item = await asyncio.to_thread(self._submit_review, item)
        except Exception as exc:  # noqa: BLE001 - under flag no store failure may cost the user the answer
            self.metrics.store_write_failed(1, "review")
            self.log.error("review_not_stored", request_id=state.request_id, review_id=item.id, policy=item.policy,
                      error=f"{type(exc).__name__}: {exc}")
            if item.policy == "flag":
                return Review(required=True, policy="flag", status="pending")
            if isinstance(exc, StoreUnavailable):
                raise StoreUnavailable(f"the held answer of request {state.request_id} could not be queued for "
                                       f"review, so it is not returned: {exc}") from exc
            raise
        return Review(required=True, policy=item.policy, id=item.id, status="pending", held=item.policy == "block")

    def _submit_review(self, item: ReviewItem) -> ReviewItem:
        """Runs in a worker thread: redaction (about 1 ms per KB) included, so the event loop never pays for it.

        The same conversation sent again within ``review.repeat_window_s`` (a framework's retry) joins the
        pending item it filed: that item is returned, and nothing new is queued.
        """
        window = self.config.review.repeat_window_s
        if window is not None and item.conversation is not None:
            pending = self.store.pending_review_for_conversation(item.conversation, item.policy,
                                                                 item.created_at - timedelta(seconds=window))
            if pending is not None:
                return pending
        stored = redact_review(item, self.redactor)
        held_unmasked = item.policy == "block" and stored.draft != item.draft  # its user gets it as written
        self.store.submit_review(stored, deliverable=item.draft if held_unmasked else None)
        self._refresh_review_depth()
        return item

    def _refresh_review_depth(self) -> None:
        try:
            self.metrics.set_review_depth(sum(self.store.review_counts("pending").values()))
        except StoreUnavailable:
            pass  # the gauge keeps its last value; the failure that matters was raised or counted elsewhere

    def _finish(self, state: RequestState, meta: GuardMetadata, started: float, *, streamed: bool,
                delivered: bool = True) -> None:
        self._record(request_record(state, started=started, streamed=streamed, meta=meta, redactor=self.redactor,
                                    question=last_user_text(state.messages), delivered=delivered))
        self.log.info("guarded_completion", request_id=meta.request_id, model=meta.model, tier=meta.tier,
                 confidence=meta.confidence, latency_ms=meta.usage.latency_ms.total, streamed=streamed,
                 review=meta.review.id)

    def _fail(self, state: RequestState, started: float, error: BaseException, *, streamed: bool) -> None:
        """Failed calls are recorded too (then the caller re-raises)."""
        self._record(request_record(state, started=started, streamed=streamed, error=error, redactor=self.redactor,
                                    question=last_user_text(state.messages)))

    def _record(self, record: RequestRecord) -> None:
        """Counters, a span and a queued row: nothing here waits for the store (the writer redacts the row)."""
        self.metrics.observe(record)
        emit_span(record)
        if self.writer is not None:
            self.writer.submit(record)

    # -- after the answer: feedback, reviews, shutdown -----------------------

    def feedback(self, request_id: str, rating: int | None = None, final_text: str | None = None,
                 comment: str | None = None, user: str | None = None, resolved: bool | None = None) -> FeedbackRecord:
        """What the user thought of an answer (``rating`` +1 / -1) and what was really sent (``final_text``).

        A second call on the same request updates it; raises ``UnknownRequest`` for an id guard never answered.
        """
        fields = {"rating": rating, "final_text": self._redact(final_text), "comment": self._redact(comment),
                  "user": self._redact(user), "resolved": resolved}
        try:
            return self.store.record_feedback(request_id, **fields)
        except UnknownRequest:
            if self.writer is None or not self.writer.flush(timeout=5.0):
                raise
            return self.store.record_feedback(request_id, **fields)  # its record was still on its way

    async def afeedback(self, request_id: str, rating: int | None = None, final_text: str | None = None,
                        comment: str | None = None, user: str | None = None,
                        resolved: bool | None = None) -> FeedbackRecord:
        """``feedback`` off the event loop."""
        return await asyncio.to_thread(self.feedback, request_id, rating, final_text, comment, user, resolved)

    def review_for(self, request_id: str, *, delivering: bool = True) -> ReviewItem | None:
        """The review item of an answer, e.g. to deliver a held answer once it is decided.

        Under ``pii_handling: redact`` a decided held answer comes as its user must get it (``draft`` when
        approved, ``final_text`` when edited, as written), not as the store's masked copy. With the app told by
        polling (``review.notify``), this read is its delivery and the text as written is deleted: later reads
        give the masked copy. ``delivering=False`` is a look that is not the delivery (an operator's).
        """
        item = self.store.review_for_request(request_id)
        if item is None or item.policy != "block" or item.status not in ("approved", "edited"):
            return item
        take = delivering and self.config.review.delivery == "poll"
        written = self.store.deliverable(item.id, take=take)
        if written is None:
            return item
        return item.model_copy(update={"draft" if item.status == "approved" else "final_text": written})

    async def areview_for(self, request_id: str, *, delivering: bool = True) -> ReviewItem | None:
        return await asyncio.to_thread(partial(self.review_for, request_id, delivering=delivering))

    def decide(self, review_id: str, decision: Decision, *, reviewer: str, final_text: str | None = None,
               reason: str | None = None) -> ReviewItem:
        """A reviewer's decision: ``approved``, ``edited`` (with ``final_text``) or ``rejected``.

        A rejection needs its ``reason``, as ``guard review reject --reason`` does: it becomes the label's reason.
        Raises ``AlreadyDecided`` when someone else decided first; a held item's decision goes to the webhook.
        """
        if decision == "rejected" and not (reason or "").strip():
            raise InvalidRequest("a rejection needs a reason, e.g. decide(review_id, 'rejected', reviewer=..., "
                             "reason='wrong price')", param="reason")
        item = record_decision(self.store, self.webhook, review_id, decision, reviewer=reviewer,
                               final_text=final_text, reason=reason, redactor=self.redactor)
        self._refresh_review_depth()
        return item

    async def adecide(self, review_id: str, decision: Decision, *, reviewer: str, final_text: str | None = None,
                      reason: str | None = None) -> ReviewItem:
        return await asyncio.to_thread(self.decide, review_id, decision, reviewer=reviewer, final_text=final_text,
                                       reason=reason)

    def close(self, timeout: float = 10.0) -> None:
        """Write the records still queued (waiting at most ``timeout``), send pending webhooks, release the store."""
        if self.writer is not None:
            self.writer.close(timeout)
        self.webhook.close(timeout)
        self.purger.close(timeout)
        self.store.close()

    async def aclose(self, timeout: float = 10.0) -> None:
        await asyncio.to_thread(self.close, timeout)

    def __enter__(self) -> "Guard":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Guard":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _redact(self, text: str | None) -> str | None:
        return None if text is None else self.redactor.redact(text)

def _warn_if_decisions_are_only_polled(config: GuardConfig, log: Any) -> None:
    """Held answers reach their user only if the app learns the decision: say so when nothing was chosen."""
    review = config.review
    if review.enabled and review.policy == "block" and review.notify is None and not review.webhook_url:
        log.warning("held_answers_need_polling", detail="review.policy is block and no review.webhook_url is set: "
                    "the app must poll GET /v1/requests/{id} (or Guard.review_for) to deliver decided answers; "
                    "set review.notify: poll to say that is intended, or set review.webhook_url")


def _without_n(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "n"}


def _answer_first(choices: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    if 0 < index < len(choices):
        return [choices[index]] + choices[:index] + choices[index + 1:]
    return choices


_background: set[asyncio.Task[Any]] = set()


def _detach(coro: Any) -> None:
    """Run clean-up beside a cancelled request (which cannot await); a reference keeps the task alive."""
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _add_tool_call_deltas(calls: dict[int, dict[str, str]], deltas: list[dict[str, Any]] | None) -> None:
    """Append streamed tool-call pieces (name and arguments arrive in fragments) to the calls they belong to."""
    for delta in deltas or []:
        call = calls.setdefault(int(delta.get("index") or 0), {"name": "", "arguments": ""})
        function = delta.get("function") or {}
        call["name"] += function.get("name") or ""
        call["arguments"] += function.get("arguments") or ""


def _as_delta(message: dict[str, Any]) -> dict[str, Any]:
    """A whole assistant message as one stream delta; tool calls get the ``index`` deltas carry."""
    delta = {k: v for k, v in message.items() if v is not None}
    if delta.get("tool_calls"):
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(delta["tool_calls"])]
    return delta


def _usage(meta: GuardMetadata) -> dict[str, int]:
    u = meta.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens}


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
