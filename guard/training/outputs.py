"""Where fitted parameters go: a folder named on the command line, never the installed package.

Each command starts from the parameters an earlier command wrote into that folder, else from the installed
ones, so a refit is a chain of commands into one folder whose files are then copied into
``guard/verify/params/`` of a source checkout (or loaded from there: ``support.calibration``).
"""

from __future__ import annotations

import json
from pathlib import Path

from guard.verify.offline import params_path


def current(out: Path, name: str) -> Path:
    """The parameters file to start from: the one in ``out`` when an earlier command wrote it, else the installed one."""
    written = out / name
    return written if written.exists() else params_path(name)


def write(out: Path, name: str, params: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(params, indent=2) + "\n")
    print(f"wrote {path}")
    return path
