"""``import guard`` and ``Guard()`` leave the host process as they found it."""

from __future__ import annotations

import json
import os
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


HOST_PROBE = r"""
import json, os, sys
import torch
import sentence_transformers  # sets KMP_* and TORCHINDUCTOR_* itself on import: not guard's doing

torch.set_num_threads(3)  # the host's own choice, unlike guard's (usable cores but one)
before = {"env": dict(os.environ), "torch_threads": torch.get_num_threads()}
from guard import Client, Guard, GuardConfig
from guard.embeddings import Embedder
from guard.threads import model_forward

config = GuardConfig(models={"default": "openai/x"})  # the default store: .guard/guard.db in the working directory
Guard(config)
Client(config).close()
Embedder(onnx=False).encode(["a sentence to embed"])  # a torch forward of guard's own
with model_forward():
    inside = torch.get_num_threads()
after = {"env": dict(os.environ), "torch_threads": torch.get_num_threads()}
print(json.dumps({"before": before, "after": after, "inside": inside, "guard_dir": os.path.exists(".guard")}))
"""


def test_a_host_keeps_its_environment_torch_threads_and_working_directory(tmp_path):
    """A library host's process after guard ran in it: no variable written, its torch thread count back as it
    set it once guard's forward is over, and no .guard/ folder in its working directory before anything is stored."""
    host_env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}  # the default store, in cwd
    out = subprocess.run([sys.executable, "-c", HOST_PROBE], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env=host_env, timeout=300).stdout
    probe = json.loads(out.strip().splitlines()[-1])

    assert probe["after"]["env"] == probe["before"]["env"]
    assert probe["inside"] != 3  # guard's own forwards run on its own thread count...
    assert probe["after"]["torch_threads"] == probe["before"]["torch_threads"] == 3  # ...and give the host's back
    assert not probe["guard_dir"]
