"""``guard init``: write a guard.yaml that lists every setting with its default, to edit.

The file is made from ``GuardConfig`` itself, so it never lags behind the code. Only the settings a new
project sets first are active; the rest are comments showing the default. A written default would count as
set on purpose and stop the risk level and the product spec from choosing it (see ``guard.config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

ACTIVE = {("product", "name"), ("product", "risk"), ("models", "default"), ("knowledge_base", "path"),
          ("telemetry", "database")}
# Secrets come from the environment only; sections too long to be useful as a one-line comment.
LEFT_OUT = {("review", "webhook_secret"), ("server", "console_secret"), ("tiers", "styles")}
HEADER = """\
# guard configuration, written by `guard init`. Every key is optional: a commented line shows the default.
# Environment variables override this file, nested with "__": GUARD_MODELS__DEFAULT=gpt-4o-mini.
# Relative paths are taken from the folder guard runs in. The README's configuration table explains each key.
"""


def init(path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("guard.yaml"),
         force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Write a commented guard.yaml with every default, to edit."""
    if path.exists() and not force:
        typer.echo(f"guard init: {path} exists; edit it, or pass --force to overwrite it", err=True)
        raise typer.Exit(1)
    path.write_text(config_template(), encoding="utf-8")
    typer.echo(f"wrote {path}. Next: guard kb add DOCS (builds the knowledge base it names), then guard serve")


def config_template() -> str:
    """Every section and setting of ``GuardConfig``, with its default and its description."""
    from pydantic import BaseModel

    from guard.config import RISK_DEFAULTS, GuardConfig, RiskLevel

    by_risk = set(RISK_DEFAULTS[RiskLevel.medium])
    lines = [HEADER]
    for section_name, section_field in GuardConfig.model_fields.items():
        section = section_field.default_factory()  # type: ignore[misc]
        if not isinstance(section, BaseModel):  # a list or a mapping (experiments, prompts): empty by default
            lines += [f"# {section_name}: {_yaml(section)}  # {section_field.description}", ""]
            continue
        fields = [(name, field) for name, field in type(section).model_fields.items()
                  if (section_name, name) not in LEFT_OUT]
        active_section = any((section_name, name) in ACTIVE for name, _ in fields)
        lines.append(f"{section_name}:" if active_section else f"# {section_name}:")  # an empty section is null
        for name, field in fields:
            value = getattr(section, name)
            line = f"{name}: {_yaml(value)}"
            if f"{section_name}.{name}" in by_risk:
                line += "  # unset: follows product.risk"
            elif field.description:
                line += f"  # {field.description}"
            lines.append(f"  {line}" if (section_name, name) in ACTIVE else f"  # {line}")
        lines.append("")
    return "\n".join(lines)


def _yaml(value: Any) -> str:
    import json
    from enum import Enum

    if value is None:
        return "null"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value) if not value or any(c in value for c in ":#'\"{}[],&*!|>%@`") else value
    return json.dumps(value)  # lists and mappings as YAML flow (JSON is YAML)
