"""A config with some settings changed: what per-request overrides and experiment variants are built from.

One path for both, so a variant with ``risk: high`` turns on exactly what a
request asking for ``risk: high`` does: the settings the old risk level chose are
chosen again by the new one; anything set explicitly stays.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from guard.config import GuardConfig, SettingsOverrides
from guard.errors import ConfigError


class UnknownKnowledgeBase(ConfigError):
    """A knowledge base was named that ``server.knowledge_bases`` does not list."""


def derive_config(base: GuardConfig, settings: SettingsOverrides, models: dict[str, Any] | None = None,
                  keep: dict[str, Any] | None = None) -> GuardConfig:
    """``base`` with ``settings`` (and ``models.*`` values) applied; risk defaults re-derived for a new risk level.

    ``keep``: "section.field" values that hold whatever the new risk level would choose (a request's overrides
    only tighten). Raises ``ConfigError`` when the result is not a valid config.
    """
    data = base.model_dump()
    if settings.risk is not None:
        for dotted in base.risk_filled:  # what the old risk level chose, the new one chooses; the operator's stay
            section, field = dotted.split(".")
            data[section][field] = None
        data["product"]["risk"] = settings.risk
    if settings.samples is not None:
        data["consistency"]["enabled"] = settings.samples > 1
        data["consistency"]["samples"] = max(2, settings.samples)
    if settings.review_policy is not None:
        data["review"]["policy"] = settings.review_policy
    for dotted, value in (keep or {}).items():
        section, field = dotted.split(".")
        data[section][field] = value
    if data["review"]["policy"] == "block":
        data["streaming"]["mode"] = "buffer"  # a held answer must never have been streamed
    if settings.knowledge_base is not None:
        named = base.server.knowledge_bases
        if settings.knowledge_base not in named:
            raise UnknownKnowledgeBase(f"unknown knowledge base {settings.knowledge_base!r} (configured: "
                                       f"{', '.join(sorted(named)) or 'none'})")
        data["knowledge_base"].update(base.knowledge_base.named(named[settings.knowledge_base]).model_dump(
            include={"path", "name"}))
    if models:
        data["models"].update(models)
    try:
        return GuardConfig(**data)
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"these settings make an invalid config: {exc}") from None
