"""LiteLLM's own proxy, the gateway users would pick instead, in a virtual environment of its own.

It lives apart from guard's venv so its server extras (and their pins) never touch
guard's dependencies; the benchmark creates it when missing (``make bench-setup``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".venv-litellm"
REQUIREMENT = "litellm[proxy]>=1.74,<1.107"


def litellm_bin() -> Path:
    return VENV / "bin" / "litellm"


def ensure_venv() -> Path:
    """Create the venv and install ``litellm[proxy]`` unless it is already there; returns the ``litellm`` CLI."""
    if litellm_bin().exists():
        return litellm_bin()
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, REQUIREMENT], check=True)
    return litellm_bin()


def write_config(path: Path, upstream_base: str, model: str) -> Path:
    """A one-model proxy config pointing at the fake upstream: no DB, no callbacks, no cost-map fetch."""
    path.write_text(
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: {upstream_base}\n"
        "      api_key: sk-bench\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  suppress_debug_info: true\n"
        "  set_verbose: false\n"
        "  json_logs: false\n"
        "general_settings:\n"
        "  disable_spend_logs: true\n"
    )
    return path


if __name__ == "__main__":
    print(ensure_venv())
