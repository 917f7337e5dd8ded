"""``import guard`` and ``Guard()`` leave the host process as they found it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import gc, json, logging, os, sys
import structlog, litellm

def snapshot():
    guard_logger = logging.getLogger("guard")
    return {
        "env": dict(os.environ),
        "litellm": [litellm.drop_params, litellm.suppress_debug_info, repr(litellm.callbacks),
                    repr(litellm.success_callback), len(litellm.custom_provider_map)],
        "structlog": repr(structlog.get_config()),
        "root_handlers": repr(logging.getLogger().handlers),
        "guard_handlers": repr(guard_logger.handlers),
        "gc": [gc.isenabled(), gc.get_threshold(), gc.get_freeze_count() > 0],  # only `guard serve` freezes its heap
    }

before = snapshot()
import guard
from guard import Guard, GuardConfig
Guard(GuardConfig(models={"default": "openai/x"}, telemetry={"database": sys.argv[1]}))
after = snapshot()
print(json.dumps({k: [before[k], after[k]] for k in before}))
"""


def test_importing_guard_and_building_a_guard_change_no_process_wide_state(tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "g.db")], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2], timeout=120).stdout
    states = json.loads(out.strip().splitlines()[-1])

    for name, (before, after) in states.items():
        assert before == after, f"{name} changed: {before!r} -> {after!r}"
