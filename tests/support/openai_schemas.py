"""OpenAI's published schemas for the replies guard sends, as ``jsonschema`` validators.

``tests/data/openai_schemas.json`` is a verbatim subset of OpenAI's OpenAPI document
(``openai/openai-openapi``, MIT licence; this session's copy is ``../shared/openai/openapi.json``):
the component schemas of the replies the proxy sends and every schema they ``$ref``, so CI needs no
copy of the 3 MB document. Regenerate it from a newer document with
``python -m tests.support.openai_schemas PATH/TO/openapi.json``.
"""

from __future__ import annotations

import copy
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SUBSET = Path(__file__).resolve().parent.parent / "data" / "openai_schemas.json"
ROOTS = ("CreateChatCompletionResponse", "CreateChatCompletionStreamResponse", "ListModelsResponse",
         "CreateEmbeddingResponse", "ErrorResponse", "Response", "ResponseStreamEvent")
_URI = "urn:openai:openapi"


def subset(document: dict[str, Any]) -> dict[str, Any]:
    """The ``ROOTS`` schemas of an OpenAPI document and every schema they reach through ``$ref``."""
    schemas = document["components"]["schemas"]
    kept: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in kept:
            kept[name] = schemas[name]
            todo += [ref.rsplit("/", 1)[1] for ref in _refs(schemas[name])]
    return {"components": {"schemas": dict(sorted(kept.items()))}}


@lru_cache(maxsize=1)
def _registry() -> Registry:
    document = _nullable_as_null(json.loads(SUBSET.read_text())["openapi"])
    return Registry().with_resource(_URI, Resource.from_contents(document, default_specification=DRAFT202012))


def validator(name: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for ``components.schemas[name]``, its ``$ref``s resolved in the document."""
    return Draft202012Validator({"$ref": f"{_URI}#/components/schemas/{name}"}, registry=_registry())


def assert_matches(name: str, value: Any) -> None:
    """``value`` is valid under ``components.schemas[name]``; the first error is the failure message."""
    errors = sorted(validator(name).iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


def _nullable_as_null(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true``, which JSON Schema ignores, as "this schema, or null"."""
    if isinstance(schema, list):
        return [_nullable_as_null(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _nullable_as_null(value) for key, value in schema.items()}
    if out.pop("nullable", False) is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        return [v if k == "$ref" else r for k, v in schema.items() for r in ([v] if k == "$ref" else _refs(v))]
    if isinstance(schema, list):
        return [r for v in schema for r in _refs(v)]
    return []


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text())
    SUBSET.write_text(json.dumps({
        "source": "components.schemas of OpenAI's OpenAPI document (github.com/openai/openai-openapi, MIT "
                  "licence), copied verbatim: only the schemas of the replies guard sends and those they $ref. "
                  "Regenerate: python -m tests.support.openai_schemas PATH/TO/openapi.json",
        "openapi": subset(source)}, indent=1, sort_keys=False) + "\n")
