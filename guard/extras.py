"""The optional parts of guard and the extra that installs each: a base install serves checks without them."""

from __future__ import annotations

import importlib.util

from guard.errors import MissingExtra


def require(extra: str, *modules: str, purpose: str) -> None:
    """Raise ``MissingExtra`` naming ``pip install 'guard-llm[extra]'`` when any of ``modules`` is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtra(f"{purpose} needs {', '.join(missing)}, which is not installed: "
                           f"pip install 'guard-llm[{extra}]'")
