"""An experiment's variant off line: the config and system prompt it serves with, for ``guard eval run --variant``.

The same derivation the proxy uses (``guard.derive``), so a suite gates exactly
what users would get.
"""

from __future__ import annotations

from guard.config import GuardConfig
from guard.derive import derive_config
from guard.experiments.definitions import ExperimentError, get_experiment
from guard.store import Store


def variant_config(config: GuardConfig, spec: str, store: Store | None = None) -> tuple[GuardConfig, str | None]:
    """``experiment/variant`` -> (the config that variant serves with, its system prompt's text or None).

    The experiment is looked up in the config, then in the store.
    """
    name, slash, variant_name = spec.partition("/")
    if not slash or not name or not variant_name:
        raise ExperimentError(f"{spec!r}: name a variant as EXPERIMENT/VARIANT, e.g. concise-prompt/concise")
    definition = next((e for e in config.experiments if e.name == name), None)
    prompts = dict(config.prompts)
    if definition is None:
        if store is None:
            raise ExperimentError(f"no experiment {name!r} in the config")
        stored = get_experiment(store, name)
        definition, prompts = stored.definition, {**prompts, **stored.prompts}
    variant = next((v for v in definition.variants if v.name == variant_name), None)
    if variant is None:
        raise ExperimentError(f"experiment {name!r} has no variant {variant_name!r} "
                              f"(variants: {', '.join(v.name for v in definition.variants)})")
    derived = derive_config(config, variant.settings(), variant.models)
    return derived, prompts[variant.system_prompt] if variant.system_prompt else None
