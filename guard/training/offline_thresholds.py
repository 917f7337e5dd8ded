"""Choose the offline verifier's thresholds on the ``select`` split.

    python -m guard.training.offline_thresholds --data ../shared/data --out params/

Reads the offline parameters (``offline.json`` of ``--out`` when ``guard.training.fit`` wrote it there, else the
installed ones) and writes them, thresholds added, into ``--out`` (``guard.training.outputs``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from guard.training.outputs import current, write
from guard.training.splits import SELECT, load_rows
from guard.training.train import held_out_rows
from guard.verify import contradictions
from guard.verify.offline import PARAMS_FILE, OfflineVerifier
from guard.verify.thresholds import choose


def main(argv: list[str] | None = None) -> None:
    """Choose the offline verifier's thresholds on the ``select`` split and write them into its parameters.

    Only rows the verifier was not fitted on are used: every file's ``select`` half when it was fitted
    on the split's training side (``guard.training.fit --split``), else only the ``train/`` files.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=150, help="select rows per file")
    parser.add_argument("--out", type=Path, required=True, help="params folder offline.json is read from and written to")
    args = parser.parse_args(argv)
    path = current(args.out, PARAMS_FILE)
    params = json.loads(path.read_text())
    on_split = bool(params.get("provenance", {}).get("split"))
    held = held_out_rows(load_rows(args.data), seed=0)[SELECT]
    rows = [r for file, file_rows in sorted(held.items()) if on_split or file.startswith("train/")
            for r in file_rows[: args.rows]]
    verifier = OfflineVerifier(path)
    raw = verifier.probabilities([(r.response, list(r.sources)) for r in rows])
    scores = np.array(contradictions.capped(raw, [(r.response, r.sources) for r in rows]))
    chosen = choose(scores, np.array([r.faithful for r in rows]), np.array([r.file for r in rows]))
    params["thresholds"] = chosen
    params["thresholds_chosen_on"] = {"split": "select (seed 0)", "files": sorted({r.file for r in rows}),
                                      "rows": len(rows), "command": "python -m guard.training.offline_thresholds"}
    write(args.out, PARAMS_FILE, params)
    print(json.dumps(chosen, indent=2))


if __name__ == "__main__":
    main()
