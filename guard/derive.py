"""A config with some settings changed: what per-request overrides and experiment variants are built from.

One path for both, so a variant with ``risk: high`` turns on exactly what a
request asking for ``risk: high`` does: the settings the old risk level chose are
chosen again by the new one; anything set explicitly stays.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from guard.config import RISK_DEFAULTS, GuardConfig, SettingsOverrides
from guard.errors import ConfigError


class UnknownKnowledgeBase(ConfigError):
    """A knowledge base was named that ``server.knowledge_bases`` does not list."""


def derive_config(base: GuardConfig, settings: SettingsOverrides, models: dict[str, Any] | None = None) -> GuardConfig:
    """``base`` with ``settings`` (and ``models.*`` values) applied; risk defaults re-derived for a new risk level.

    Raises ``ConfigError`` when the result is not a valid config.
    """
    data = base.model_dump()
    if settings.risk is not None:
        old = RISK_DEFAULTS[base.product.risk]
        for dotted, value in old.items():  # values the old risk level set: let the new one choose
            section, field = dotted.split(".")
            if data[section][field] == value:
                data[section][field] = None
        data["product"]["risk"] = settings.risk
    if settings.samples is not None:
        data["consistency"]["enabled"] = settings.samples > 1
        data["consistency"]["samples"] = max(2, settings.samples)
    if settings.review_policy is not None:
        data["review"]["policy"] = settings.review_policy
    if data["review"]["policy"] == "block":
        data["streaming"]["mode"] = "buffer"  # a held answer must never have been streamed
    if settings.knowledge_base is not None:
        named = base.server.knowledge_bases
        if settings.knowledge_base not in named:
            raise UnknownKnowledgeBase(f"unknown knowledge base {settings.knowledge_base!r} (configured: "
                                       f"{', '.join(sorted(named)) or 'none'})")
        data["knowledge_base"]["path"] = named[settings.knowledge_base]
    if models:
        data["models"].update(models)
    try:
        return GuardConfig(**data)
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"these settings make an invalid config: {exc}") from None
