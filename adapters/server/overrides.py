"""Per-request settings from the body's ``guard`` field: a variant of the served guard, built once and kept.

Only settings named in ``server.allow_overrides`` are accepted, and they only tighten (see
``derive_config``). A variant
shares the model client, the store, the metrics and the record writer with the
served guard; it differs only in its config and the layers built from it.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from guard.adapters.server.errors import ApiError
from guard.adapters.server.schemas import GuardOverrides
from guard.config import GuardConfig
from guard.layers import default_layers
from guard.pipeline import Guard

_MAX_VARIANTS = 32


class Variants:
    """The served guard, or its variant for a request's overrides (LRU-cached: layers load once per variant)."""

    def __init__(self, guard: Guard, config: GuardConfig):
        self.guard, self.config = guard, config
        self._cache: OrderedDict[str, Guard] = OrderedDict()
        self._lock = threading.Lock()

    def for_request(self, overrides: GuardOverrides | None) -> Guard:
        if overrides is None:
            return self.guard
        asked = overrides.model_dump(exclude_none=True)
        if not asked:
            return self.guard
        refused = sorted(set(asked) - set(self.config.server.allow_overrides))
        if refused:
            raise ApiError(400, f"guard.{refused[0]} cannot be overridden per request on this server "
                           f"(allowed: {', '.join(self.config.server.allow_overrides) or 'none'})",
                           code="override_not_allowed", param=f"guard.{refused[0]}")
        key = overrides.model_dump_json(exclude_none=True)
        with self._lock:
            variant = self._cache.get(key)
            if variant is not None:
                self._cache.move_to_end(key)
                return variant
        variant = copy.copy(self.guard)
        variant.config = derive_config(self.guard.config, overrides)
        variant.layers = default_layers(variant.config)
        with self._lock:
            self._cache[key] = variant
            while len(self._cache) > _MAX_VARIANTS:
                self._cache.popitem(last=False)
        return variant


def derive_config(base: GuardConfig, overrides: GuardOverrides) -> GuardConfig:
    """``base`` with the overrides applied: overrides only tighten what the server does.

    A new risk level re-derives only the settings the served risk level chose (none the operator set), and
    the result is never looser than the served config: a held answer stays held, a buffered stream stays
    buffered, citations and self-consistency stay required. An override asking for less is a 400.
    """
    _refuse_loosening(base, overrides)
    data = base.model_dump()
    if overrides.risk is not None:
        for dotted in base.risk_filled:  # the operator's own settings stay as they are
            section, field = dotted.split(".")
            data[section][field] = None
        data["product"]["risk"] = overrides.risk
    if overrides.samples is not None:
        data["consistency"]["enabled"] = overrides.samples > 1
        data["consistency"]["samples"] = max(2, overrides.samples)
    if overrides.review_policy is not None:
        data["review"]["policy"] = overrides.review_policy
    for dotted, strict in _STRICT.items():  # what the new risk level would loosen, the served config keeps
        section, field = dotted.split(".")
        if getattr(getattr(base, section), field) == strict:
            data[section][field] = strict
    if data["review"]["policy"] == "block":
        data["streaming"]["mode"] = "buffer"  # a held answer must never have been streamed
    if overrides.knowledge_base is not None:
        named = base.server.knowledge_bases
        if overrides.knowledge_base not in named:
            raise ApiError(400, f"unknown knowledge base {overrides.knowledge_base!r} (configured: "
                           f"{', '.join(sorted(named)) or 'none'})", code="invalid_value", param="guard.knowledge_base")
        data["knowledge_base"]["path"] = named[overrides.knowledge_base]
    try:
        return GuardConfig(**data)
    except ValueError:  # pydantic's ValidationError; its text would quote the served config (paths, URLs)
        raise ApiError(400, "these overrides make an invalid config", code="invalid_value", param="guard") from None


# The stricter value of each setting an override must not loosen.
_STRICT: dict[str, Any] = {"review.policy": "block", "streaming.mode": "buffer", "citations.required": True,
                           "consistency.enabled": True, "grounding.refuse_without_source": True}


def _refuse_loosening(base: GuardConfig, overrides: GuardOverrides) -> None:
    if overrides.review_policy == "flag" and base.review.policy == "block":
        raise ApiError(400, "guard.review_policy cannot lower this server's review.policy 'block' to 'flag'",
                       code="override_not_allowed", param="guard.review_policy")
    if overrides.samples is not None and base.consistency.enabled and overrides.samples < base.consistency.samples:
        raise ApiError(400, f"guard.samples cannot go below this server's {base.consistency.samples} "
                       "self-consistency samples", code="override_not_allowed", param="guard.samples")
