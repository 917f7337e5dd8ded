"""Model providers that plug into litellm through the ``guard.providers`` entry point.

A model string ``PREFIX/name`` whose prefix names an entry point (``local`` for
the embedded SmolLM2) is served by that plugin; the core finds plugins this way
instead of importing adapters.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points

import litellm

_lock = threading.Lock()
_registered: set[str] = set()


def ensure_provider(model: str) -> None:
    """Register the plugin that serves ``model``, once per process; other models pass through."""
    prefix, sep, _ = model.partition("/")
    if not sep or prefix in _registered:
        return
    with _lock:
        if prefix in _registered:
            return
        for ep in entry_points(group="guard.providers"):
            if ep.name == prefix:
                register(prefix, ep.load())
                return


def register(prefix: str, handler: object) -> None:
    """Serve ``prefix/...`` models with ``handler`` (a ``litellm.CustomLLM``)."""
    litellm.custom_provider_map = [p for p in litellm.custom_provider_map if p["provider"] != prefix]
    litellm.custom_provider_map.append({"provider": prefix, "custom_handler": handler})
    litellm.utils.custom_llm_setup()  # litellm would do this on the first call; capability look-ups need it now
    model_info = getattr(handler, "model_info", None)
    if model_info:
        litellm.register_model(model_info)
    _registered.add(prefix)
