"""Model providers that plug into litellm through the ``guard.providers`` entry point.

A model string ``PREFIX/name`` whose prefix names an entry point (``local`` for
the embedded SmolLM2) is served by that plugin; the core finds plugins this way
instead of importing adapters. Registering one changes litellm's provider map,
so it happens when such a model is first asked for, never on import.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import Any

import litellm

_lock = threading.Lock()
_handlers: dict[str, Any] = {}


def ensure_provider(model: str) -> None:
    """Register the plugin that serves ``model`` (once per process) and check the model is installed.

    Raises ``ModelNotInstalled`` (from the plugin) naming the package to install;
    models of other providers pass through untouched.
    """
    prefix, sep, _ = model.partition("/")
    if not sep:
        return
    handler = _handlers.get(prefix)
    if handler is None:
        with _lock:
            if prefix not in _handlers:
                for ep in entry_points(group="guard.providers"):
                    if ep.name == prefix:
                        register(prefix, ep.load())
                        break
                else:
                    _handlers[prefix] = False  # not a plugin prefix: litellm's own provider
            handler = _handlers[prefix]
    check = getattr(handler, "check_installed", None)
    if check is not None:
        check(model)


def plugin(model: str) -> Any | None:
    """The plugin serving ``model`` once ``ensure_provider`` has run; None for litellm's own providers."""
    return _handlers.get(model.partition("/")[0]) or None


def register(prefix: str, handler: object) -> None:
    """Serve ``prefix/...`` models with ``handler`` (a ``litellm.CustomLLM``)."""
    litellm.custom_provider_map = [p for p in litellm.custom_provider_map if p["provider"] != prefix]
    litellm.custom_provider_map.append({"provider": prefix, "custom_handler": handler})
    litellm.utils.custom_llm_setup()  # litellm would do this on the first call; capability look-ups need it now
    model_info = getattr(handler, "model_info", None)
    if model_info:
        litellm.register_model(model_info)
    _handlers[prefix] = handler
