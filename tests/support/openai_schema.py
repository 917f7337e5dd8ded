"""Validate a reply against OpenAI's own API description (``/work/shared/openai/openapi.json``), when present."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

DOCUMENT = Path(__file__).resolve().parents[3] / "shared" / "openai" / "openapi.json"
_CANDIDATES = [DOCUMENT, Path("/work/shared/openai/openapi.json")]


@cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    for path in _CANDIDATES:
        if path.exists():
            document = json.loads(path.read_text())
            return Registry().with_resource("openapi.json", Resource.opaque(document)), document
    pytest.skip("OpenAI's openapi.json is not on this machine")


def assert_matches(schema_name: str, value: Any) -> None:
    """``value`` is valid under ``components.schemas[schema_name]``; the first error is the failure message."""
    registry, document = _registry()
    schema = {"$ref": f"openapi.json#/components/schemas/{schema_name}"}
    validator = Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"{schema_name}: {errors[0].message} at {list(errors[0].absolute_path)}"
