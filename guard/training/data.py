"""Labelled (response, sources, label) examples in the shared JSON Lines format, for fitting and measuring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    id: str
    sources: list[str]
    response: str
    faithful: bool
    question: str | None = None
    dataset: str = ""

    @property
    def group(self) -> str:
        """Rows sharing a group (one HaluEval question's two answers) must stay on one side of a split."""
        return self.id.rsplit("-", 1)[0] if self.dataset.startswith("halueval") else self.id


def load_examples(path: str | Path) -> list[Example]:
    """Read one JSON Lines file; a malformed line raises ``ValueError`` naming the file and line."""
    path = Path(path)
    examples: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = row["label"]
                if label not in ("faithful", "hallucinated"):
                    raise ValueError(f"label must be 'faithful' or 'hallucinated', got {label!r}")
                examples.append(Example(
                    id=str(row["id"]), sources=[str(s) for s in row["sources"]], response=str(row["response"]),
                    faithful=label == "faithful", question=row.get("question"), dataset=path.stem,
                ))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled example: {exc}") from exc
    return examples


def load_dir(data_dir: str | Path) -> dict[str, list[Example]]:
    """Every ``*.jsonl`` file of a folder, by file stem."""
    files = sorted(Path(data_dir).glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no *.jsonl files in {data_dir}")
    return {f.stem: load_examples(f) for f in files}
