"""Per-request settings (the body's ``guard`` field) and experiment variants: a variant of the served guard, built once and kept.

Only settings named in ``server.allow_overrides`` are accepted from a request, and they only tighten (see
``derive_request_config``). A variant shares the model client, the store, the metrics and the record writer
with the served guard; it differs only in its config and the layers built from it. An experiment's variant
(the operator's own choice, which may loosen) is applied first, the request's own overrides on top.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

import orjson

from guard.adapters.server.errors import ApiError
from guard.adapters.server.schemas import GuardOverrides
from guard.config import ExperimentVariant, GuardConfig, SettingsOverrides
from guard.derive import UnknownKnowledgeBase, derive_config
from guard.errors import ConfigError
from guard.layers import default_layers
from guard.llm import ModelClient
from guard.pipeline import Guard

_MAX_VARIANTS = 32


class Variants:
    """The served guard, or its variant for an experiment arm and a request's overrides (LRU-cached: layers load
    once per variant)."""

    def __init__(self, guard: Guard, config: GuardConfig):
        self.guard, self.config = guard, config
        self._cache: OrderedDict[bytes, Guard] = OrderedDict()
        self._lock = threading.Lock()

    def for_request(self, overrides: GuardOverrides | None, arm: ExperimentVariant | None = None) -> Guard:
        asked = overrides.model_dump(exclude_none=True) if overrides is not None else {}
        refused = sorted(set(asked) - set(self.config.server.allow_overrides))
        if refused:
            raise ApiError(400, f"guard.{refused[0]} cannot be overridden per request on this server "
                           f"(allowed: {', '.join(self.config.server.allow_overrides) or 'none'})",
                           code="override_not_allowed", param=f"guard.{refused[0]}")
        arm_settings = arm.settings().model_dump(exclude_none=True) if arm is not None else {}
        models = arm.models if arm is not None and arm.models else None
        if not asked and not arm_settings and not models:
            return self.guard
        key = orjson.dumps([arm_settings, models, asked], option=orjson.OPT_SORT_KEYS)
        with self._lock:
            variant = self._cache.get(key)
            if variant is not None:
                self._cache.move_to_end(key)
                return variant
        config = self.guard.config
        if arm_settings or models:
            config = derive_config(config, SettingsOverrides(**arm_settings), models)  # the store's definition
        if asked:
            config = derive_request_config(config, SettingsOverrides(**asked))
        variant = copy.copy(self.guard)
        variant.config = config
        variant.layers = default_layers(config)
        if models:  # retries, timeout and fallbacks of the variant's own models section
            variant.llm = ModelClient(config.models)
        with self._lock:
            self._cache[key] = variant
            while len(self._cache) > _MAX_VARIANTS:
                self._cache.popitem(last=False)
        return variant


def derive_request_config(base: GuardConfig, overrides: SettingsOverrides) -> GuardConfig:
    """``base`` with a request's overrides applied, or the 400 that says why they cannot be.

    Overrides only tighten what the server does: a held answer stays held, a buffered stream stays buffered,
    citations and self-consistency stay required whatever a new risk level would choose. An override asking
    for less is a 400.
    """
    _refuse_loosening(base, overrides)
    keep = {dotted: strict for dotted, strict in _STRICT.items() if _value(base, dotted) == strict}
    try:
        return derive_config(base, overrides, keep=keep)
    except UnknownKnowledgeBase as exc:
        raise ApiError(400, str(exc), code="invalid_value", param="guard.knowledge_base") from None
    except ConfigError:  # its text would quote the served config (paths, URLs)
        raise ApiError(400, "these overrides make an invalid config", code="invalid_value", param="guard") from None


# The stricter value of each setting an override must not loosen.
_STRICT: dict[str, Any] = {"review.policy": "block", "streaming.mode": "buffer", "citations.required": True,
                           "consistency.enabled": True, "grounding.refuse_without_source": True}


def _value(config: GuardConfig, dotted: str) -> Any:
    section, field = dotted.split(".")
    return getattr(getattr(config, section), field)


def _refuse_loosening(base: GuardConfig, overrides: SettingsOverrides) -> None:
    if overrides.review_policy == "flag" and base.review.policy == "block":
        raise ApiError(400, "guard.review_policy cannot lower this server's review.policy 'block' to 'flag'",
                       code="override_not_allowed", param="guard.review_policy")
    if overrides.samples is not None and base.consistency.enabled and overrides.samples < base.consistency.samples:
        raise ApiError(400, f"guard.samples cannot go below this server's {base.consistency.samples} "
                       "self-consistency samples", code="override_not_allowed", param="guard.samples")
