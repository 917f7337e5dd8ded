"""One GGUF chat model run in-process by llama.cpp: loaded once, one generation at a time.

A llama.cpp context is not thread-safe, so every generation holds the engine's
lock; callers on an event loop run the engine on a worker thread.

The engine drives generation token by token (``Llama.generate``) rather than
through ``create_completion``: it then knows every sampled token, which is what
log-probabilities need. llama-cpp-python computes logprobs only with
``logits_all`` (n_ctx x vocab floats kept, ~800 MB at n_ctx 4096); here a logits
processor reads each step's raw logits just before sampling instead, and only
when log-probabilities were asked for.
"""

from __future__ import annotations

import codecs
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from guard.extras import require


@dataclass(frozen=True)
class Sampling:
    """The OpenAI sampling parameters the engine honours."""

    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None = None
    stop: tuple[str, ...] = ()
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    repeat_penalty: float = 1.0
    logprobs: bool = False
    top_logprobs: int = 0  # alternatives reported per token, most likely first (OpenAI allows 0-20)


@dataclass(frozen=True)
class Alternative:
    """A token the model could have written at a step, with its log-probability."""

    token: str
    logprob: float
    bytes: bytes


@dataclass(frozen=True)
class TokenLogprob:
    """One token of the answer: its text, the model's log-probability of it, and the top alternatives.

    ``logprob`` is log-softmax of the model's raw logits at that step, before
    repetition penalties, temperature and truncation (as OpenAI reports it), so
    it does not depend on the sampling settings. ``token`` holds the characters
    this token completes, so the tokens of an answer concatenate to its text even
    when a character spans two tokens; ``bytes`` holds the token's own bytes.
    """

    token: str
    logprob: float
    bytes: bytes
    top: tuple[Alternative, ...] = ()
    id: int = -1  # the token's id in the model's vocabulary


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str  # "stop" or "length", as in OpenAI
    usage: Usage
    logprobs: tuple[TokenLogprob, ...] | None = None  # when the sampling asked for them


@dataclass(frozen=True)
class GenerationPart:
    """A streamed part of a generation; the last one has the finish reason and the usage."""

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None
    logprobs: tuple[TokenLogprob, ...] | None = None  # the tokens of ``text``, when asked for


class PromptTooLong(ValueError):
    """The prompt leaves no room in the context window for an answer."""

    def __init__(self, prompt_tokens: int, n_ctx: int):
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx
        super().__init__(f"the prompt is {prompt_tokens} tokens but the context window holds {n_ctx} "
                         "(prompt and answer together); shorten the messages or retrieve fewer sources")


@dataclass
class LlamaEngine:
    """A chat model from a GGUF file, loaded on first use and shared by every caller in the process."""

    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 2
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _llama: Any = field(default=None, init=False, repr=False)
    _formatter: Any = field(default=None, init=False, repr=False)

    def generate(self, messages: list[dict[str, str]], sampling: Sampling) -> Generation:
        pieces = list(self.stream(messages, sampling))
        last = pieces[-1]
        logprobs = tuple(lp for p in pieces for lp in p.logprobs or ()) if sampling.logprobs else None
        return Generation(text="".join(p.text for p in pieces), finish_reason=last.finish_reason or "stop",
                          usage=last.usage or Usage(0, 0), logprobs=logprobs)

    def stream(self, messages: list[dict[str, str]], sampling: Sampling,
               cancelled: threading.Event | None = None) -> Iterator[GenerationPart]:
        """Yield the answer as it is generated; setting ``cancelled`` ends generation early."""
        with self._lock:
            prompt = self._prompt_tokens(messages)
            run = _Run(self._llama, prompt, sampling, self._stops(sampling), self.n_ctx)
            for piece in run.pieces():
                yield piece
                if cancelled is not None and cancelled.is_set():
                    break
        yield GenerationPart(text="", finish_reason=run.finish_reason, usage=Usage(len(prompt), run.completion_tokens))

    def _prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        self._load()
        prompt = self._formatter(messages=messages).prompt
        tokens = self._llama.tokenize(prompt.encode(), add_bos=False, special=True)
        if len(tokens) >= self.n_ctx:
            raise PromptTooLong(len(tokens), self.n_ctx)
        return tokens

    def _stops(self, sampling: Sampling) -> tuple[str, ...]:
        return (*sampling.stop, self._formatter.eos_token)

    def _load(self) -> None:
        """Load the model the first time it is needed; called with the lock held."""
        if self._llama is not None:
            return
        require("local", "llama_cpp", purpose="the embedded model")
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        with _without_weight_repacking():
            llama = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                          n_threads_batch=self.n_threads, verbose=False)
        eos, bos = (llama.detokenize([t], special=True).decode() for t in (llama.token_eos(), llama.token_bos()))
        self._formatter = Jinja2ChatFormatter(template=llama.metadata["tokenizer.chat_template"],
                                              eos_token=eos, bos_token=bos)
        self._llama = llama


class _Run:
    """One generation, token by token, with the stop rules and sampler of llama-cpp-python's ``create_completion``.

    Text is released whole tokens at a time, and only once it cannot be the start
    of a stop sequence, so each piece's tokens are exactly its text.
    """

    def __init__(self, llama: Any, prompt: list[int], sampling: Sampling, stops: tuple[str, ...], n_ctx: int):
        self.llama, self.prompt, self.sampling = llama, prompt, sampling
        self.stops = tuple(s for s in stops if s)
        self.max_tokens = min(sampling.max_tokens, n_ctx - len(prompt))
        self.recorder = _LogprobRecorder() if sampling.logprobs else None
        self.finish_reason = "length"
        self.completion_tokens = 0

    def pieces(self) -> Iterator[GenerationPart]:
        llama, sampling = self.llama, self.sampling
        # As create_completion seeds: the given seed, else one drawn from the previous seed.
        llama.set_seed(sampling.seed if sampling.seed is not None else random.Random(llama._seed).randint(0, 2**32))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        text = ""  # the answer so far
        pending: list[tuple[int, TokenLogprob | None]] = []  # tokens not yet released, with where their text ends
        released = 0  # characters of text already yielded
        if self.max_tokens <= 0:
            return
        for token in llama.generate(
                self.prompt, top_k=40, top_p=sampling.top_p, min_p=0.05, typical_p=1.0, temp=sampling.temperature,
                repeat_penalty=sampling.repeat_penalty, frequency_penalty=sampling.frequency_penalty,
                presence_penalty=sampling.presence_penalty,
                logits_processor=None if self.recorder is None else [self.recorder]):
            if _is_eog(llama, token):
                self.finish_reason = "stop"
                break
            self.completion_tokens += 1
            raw = llama.detokenize([token])
            chars = decoder.decode(raw)
            text += chars
            entry = None if self.recorder is None else self.recorder.entry(llama, token, chars, raw,
                                                                           self.sampling.top_logprobs)
            pending.append((len(text), entry))
            stop_at = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
            if stop_at >= 0:
                text = text[:stop_at]
                self.finish_reason = "stop"
                if released < len(text):
                    yield self._piece(text, released, len(text), pending)
                return
            safe = len(text) - _stop_prefix_length(text, self.stops)
            ready = 0
            while ready < len(pending) and pending[ready][0] <= safe:
                ready += 1
            if ready:
                end = pending[ready - 1][0]
                yield self._piece(text, released, end, pending[:ready])
                released, pending = end, pending[ready:]
            if self.completion_tokens >= self.max_tokens:
                break
        if released < len(text) or pending:
            yield self._piece(text, released, len(text), pending)

    def _piece(self, text: str, start: int, end: int, tokens: list[tuple[int, TokenLogprob | None]]) -> GenerationPart:
        """The text from ``start`` to ``end`` and its tokens; a token cut by a stop sequence keeps only its part."""
        if self.recorder is None:
            return GenerationPart(text=text[start:end])
        entries: list[TokenLogprob] = []
        position = start
        for token_end, entry in tokens:
            assert entry is not None
            if token_end > end:
                kept = entry.token[:end - position]
                if kept:
                    entries.append(replace(entry, token=kept, bytes=kept.encode()))
                break
            entries.append(entry)
            position = token_end
        return GenerationPart(text=text[start:end], logprobs=tuple(entries))


class _LogprobRecorder:
    """A llama.cpp logits processor that keeps the latest step's log-softmax of the raw logits, changing nothing.

    llama-cpp-python runs it first in the sampler chain, on the full vocabulary in
    token-id order, once per sampled token; the token that step samples is
    yielded by ``Llama.generate`` right after, so ``entry`` pairs the two.
    """

    def __init__(self) -> None:
        self.logits: Any = None
        self.log_total = 0.0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        logits = np.asarray(scores, dtype=np.float64)
        top = float(logits.max())
        self.logits = logits
        self.log_total = top + float(np.log(np.exp(logits - top).sum()))
        return scores

    def entry(self, llama: Any, token: int, chars: str, raw: bytes, top_n: int) -> TokenLogprob:
        import numpy as np

        logits, log_total = self.logits, self.log_total
        top: tuple[Alternative, ...] = ()
        if top_n > 0:
            best = np.argpartition(-logits, top_n)[:top_n] if top_n < len(logits) else np.arange(len(logits))
            best = sorted(best.tolist(), key=lambda i: (-logits[i], i))
            top = tuple(Alternative(token=(b := llama.detokenize([i])).decode("utf-8", errors="replace"),
                                    logprob=float(logits[i] - log_total), bytes=b) for i in best)
        return TokenLogprob(token=chars, logprob=float(logits[token] - log_total), bytes=raw, top=top, id=token)


def _stop_prefix_length(text: str, stops: tuple[str, ...]) -> int:
    """Length of the longest end of ``text`` that could begin a stop sequence: held back until it is known."""
    longest = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:n]):
                longest = n
                break
    return longest


def _is_eog(llama: Any, token: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llama._model.vocab, token))


@contextmanager
def _without_weight_repacking() -> Iterator[None]:
    """Load weights in plain CPU buffers, not llama.cpp's repacked "extra" buffers.

    On CPUs that report AMX, the repacked path hands Q4_1 matrices to the AMX
    kernel, which crashed the process (SIGSEGV in ggml_backend_amx_mul_mat) on
    our build machine; for a 135M model the plain path is fast enough.
    ``Llama`` has no argument for this, so its default model params are
    adjusted for the duration of the load.
    """
    import llama_cpp.llama_cpp as native

    default_params = native.llama_model_default_params

    def params_without_repacking() -> Any:
        params = default_params()
        params.use_extra_bufts = False
        return params

    native.llama_model_default_params = params_without_repacking
    try:
        yield
    finally:
        native.llama_model_default_params = default_params
