"""The grouped split the support model is trained, selected and measured on.

A row's group is its source document (the VitaminC page title; otherwise the source
texts themselves: one HaluEval knowledge paragraph, one CNN article, one cited web page),
so no source ever sits on both sides. Which side a group falls on is a hash of the group
and the seed, so the split is the same on every machine, for training and evaluation alike,
and HaluEval QA rows in the development file and in the training file share their side.

Held-out groups are halved: ``select`` (checkpoint choice, thresholds, combination weights)
and ``report`` (the figures we publish, touched by nothing that is fitted).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

TRAIN, SELECT, REPORT = "train", "select", "report"

# Share of each family's groups held out. Development files and the small sets give more.
HELD_OUT = {
    "vitaminc": 0.04, "halueval_qa": 0.30, "halueval_dialogue": 0.04, "halueval_summarization": 0.03,
    "begin": 0.15, "wice_dev_claims": 0.40,
}


@dataclass(frozen=True)
class Row:
    """One labelled pair of a shared file; ``file`` is ``train/<stem>`` or ``dev/<stem>``."""

    file: str
    id: str
    sources: tuple[str, ...]
    response: str
    faithful: bool
    question: str | None
    group: str

    @property
    def family(self) -> str:
        return self.file.split("/", 1)[1]


def group_of(row: dict) -> str:
    if row.get("title"):
        return "title:" + str(row["title"])
    return "src:" + hashlib.sha1("\n".join(row["sources"]).encode()).hexdigest()


def side(row: Row, seed: int = 0) -> str:
    digest = int(hashlib.sha1(f"{seed}:{row.group}".encode()).hexdigest(), 16)
    if (digest % 10_000) / 10_000 >= HELD_OUT.get(row.family, 0.05):
        return TRAIN
    return SELECT if (digest // 10_000) % 2 == 0 else REPORT


def load_rows(data_dir: str | Path) -> list[Row]:
    """Every labelled row of ``<data>/*.jsonl`` (development files) and ``<data>/train/*.jsonl``.

    A training-file row that repeats a development-file row (HaluEval QA's first 1,000 items) is left out.
    """
    data_dir = Path(data_dir)
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for kind, folder in (("dev", data_dir), ("train", data_dir / "train")):
        for path in sorted(folder.glob("*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    raw = json.loads(line)
                    key = (path.stem, str(raw["id"]))
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append(Row(file=f"{kind}/{path.stem}", id=str(raw["id"]), sources=tuple(raw["sources"]),
                                    response=str(raw["response"]), faithful=raw["label"] == "faithful",
                                    question=raw.get("question"), group=group_of(raw)))
    return rows
