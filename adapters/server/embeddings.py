"""``POST /v1/embeddings``: the knowledge base's own model answered by guard, other served names upstream.

The embedding model guard carries (``knowledge_base.embedding_model``, the packaged MiniLM by default) is
answered here, offline, in OpenAI's shape. Names in ``server.embedding_models`` go to their provider through
litellm. Any other name is a 400 ``model_not_found`` listing the served ones, as chat completions does.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from guard.adapters.server.auth import require_app
from guard.adapters.server.body import read_body
from guard.adapters.server.completions import ServedNames
from guard.adapters.server.errors import ApiError, api_error
from guard.adapters.server.limits import KeyLimits
from guard.adapters.server.schemas import parse_json
from guard.config import GuardConfig
from guard.embeddings import DEFAULT_MODEL, get_embedder
from guard.errors import ModelCallError
from guard.llm import endpoint_options, timeout_for

_PARAMS = frozenset({"encoding_format", "dimensions", "user"})


def served_embedding_models(config: GuardConfig) -> list[str]:
    """The embedding models clients may name: the knowledge base's own (answered by guard), then the upstream ones."""
    return list(dict.fromkeys([config.knowledge_base.embedding_model, *config.server.embedding_models]))


class Embeddings:
    def __init__(self, config: GuardConfig, limits: KeyLimits):
        self.config, self.limits = config, limits
        self.local = config.knowledge_base.embedding_model
        aliases = {"sentence-transformers/" + DEFAULT_MODEL: DEFAULT_MODEL} if self.local == DEFAULT_MODEL else {}
        self.models = ServedNames(served_embedding_models(config), "embedding", aliases)

    async def create(self, request: Request) -> Response:
        await self.limits.admit(require_app(request, self.config))
        data = parse_json(await read_body(request, self.config.server.max_body_bytes))
        model, text = data.get("model"), data.get("input")
        if not isinstance(model, str) or not model.strip():
            raise ApiError(400, "model: a model name is required", code="invalid_value", param="model")
        if not _is_embedding_input(text):
            raise ApiError(400, "input: a string, a list of strings or a list of token lists is required",
                           code="invalid_value", param="input")
        name = self.models.resolve(model)
        if name == self.local:
            return await self._local(name, text, data)
        return await self._upstream(name, text, data)

    async def _local(self, name: str, text: Any, data: dict[str, Any]) -> Response:
        texts = [text] if isinstance(text, str) else text
        if not all(isinstance(t, str) for t in texts):
            raise ApiError(400, f"input: {name} reads text; token lists are for the provider's own tokenizer",
                           code="invalid_value", param="input")
        encoding = data.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise ApiError(400, "encoding_format: 'float' or 'base64'", code="invalid_value", param="encoding_format")
        embedder = await asyncio.to_thread(get_embedder, name)
        dimensions = data.get("dimensions")
        if dimensions is not None and dimensions != embedder.dim:
            raise ApiError(400, f"dimensions: {name} has {embedder.dim} dimensions and cannot shorten them",
                           code="invalid_value", param="dimensions")
        vectors, tokens = await asyncio.to_thread(_encode, embedder, texts)
        rows = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if encoding == "base64" else v}
                for i, v in enumerate(vectors)]
        body = {"object": "list", "data": rows, "model": name,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
        return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")

    async def _upstream(self, name: str, text: Any, data: dict[str, Any]) -> Response:
        import litellm

        rest = {k: v for k, v in data.items() if k in _PARAMS}
        extra = {k: v for k, v in data.items() if k not in _PARAMS and k not in ("model", "input")}
        if extra:
            rest["extra_body"] = extra
        try:  # a missing key variable of the model's endpoint fails as the upstream's error, naming the variable
            response = await litellm.aembedding(model=name, input=text, drop_params=True, num_retries=0,
                                                timeout=timeout_for(self.config.models, name),
                                                **endpoint_options(self.config.models, name), **rest)
        except Exception as exc:  # noqa: BLE001 - mapped to the upstream's meaning
            raise api_error(ModelCallError(name, exc)) from None
        return Response(orjson.dumps(response.model_dump(exclude_none=True)), media_type="application/json")


def _encode(embedder: Any, texts: list[str]) -> tuple[Any, int]:
    return embedder.encode(texts), embedder.token_count(texts)


def _is_embedding_input(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    if not isinstance(value, list) or not value:
        return False
    return all(isinstance(v, str) for v in value) or all(
        isinstance(v, int) and not isinstance(v, bool) for v in value) or all(
        isinstance(v, list) and v and all(isinstance(t, int) and not isinstance(t, bool) for t in v) for v in value)
