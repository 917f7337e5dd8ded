"""One GGUF chat model run in-process by llama.cpp: loaded once, one generation at a time.

A llama.cpp context is not thread-safe, so every generation holds the engine's
lock; callers on an event loop run the engine on a worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str  # "stop" or "length", as in OpenAI
    usage: Usage


@dataclass(frozen=True)
class Piece:
    """A streamed part of a generation; the last one has the finish reason and the usage."""

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None


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
        with self._lock:
            prompt = self._prompt_tokens(messages)
            out = self._llama.create_completion(prompt, **self._sampling_args(prompt, sampling))
        choice = out["choices"][0]
        return Generation(text=choice["text"], finish_reason=choice["finish_reason"] or "stop",
                          usage=Usage(len(prompt), out["usage"]["completion_tokens"]))

    def stream(self, messages: list[dict[str, str]], sampling: Sampling,
               cancelled: threading.Event | None = None) -> Iterator[Piece]:
        """Yield the answer as it is generated; setting ``cancelled`` ends generation early."""
        with self._lock:
            prompt = self._prompt_tokens(messages)
            parts: list[str] = []
            finish_reason = "stop"
            for out in self._llama.create_completion(prompt, stream=True, **self._sampling_args(prompt, sampling)):
                choice = out["choices"][0]
                if choice["text"]:
                    parts.append(choice["text"])
                    yield Piece(text=choice["text"])
                finish_reason = choice["finish_reason"] or finish_reason
                if cancelled is not None and cancelled.is_set():
                    break
            # llama.cpp reports no usage on streams; the answer re-tokenised counts its tokens.
            completion_tokens = len(self._llama.tokenize("".join(parts).encode(), add_bos=False, special=True))
        yield Piece(text="", finish_reason=finish_reason, usage=Usage(len(prompt), completion_tokens))

    def _prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        self._load()
        prompt = self._formatter(messages=messages).prompt
        tokens = self._llama.tokenize(prompt.encode(), add_bos=False, special=True)
        if len(tokens) >= self.n_ctx:
            raise PromptTooLong(len(tokens), self.n_ctx)
        return tokens

    def _sampling_args(self, prompt: list[int], sampling: Sampling) -> dict[str, Any]:
        return {
            "max_tokens": min(sampling.max_tokens, self.n_ctx - len(prompt)),
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "seed": sampling.seed,
            "stop": [*sampling.stop, self._formatter.eos_token],
            "frequency_penalty": sampling.frequency_penalty,
            "presence_penalty": sampling.presence_penalty,
            "repeat_penalty": sampling.repeat_penalty,
        }

    def _load(self) -> None:
        """Load the model the first time it is needed; called with the lock held."""
        if self._llama is not None:
            return
        # Idle OpenMP workers sleep instead of spinning: on a busy 2-core machine
        # spinning made prompt evaluation ~20x slower. Read once, when llama.cpp loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        with _without_weight_repacking():
            llama = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                          n_threads_batch=self.n_threads, verbose=False)
        eos, bos = (llama.detokenize([t], special=True).decode() for t in (llama.token_eos(), llama.token_bos()))
        self._formatter = Jinja2ChatFormatter(template=llama.metadata["tokenizer.chat_template"],
                                              eos_token=eos, bos_token=bos)
        self._llama = llama


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
