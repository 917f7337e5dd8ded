"""Configuration as data: one pydantic model, from guard.yaml, environment and code.

Precedence, highest first: keyword arguments, ``GUARD_*`` environment variables
(nested with ``__``, e.g. ``GUARD_CONSISTENCY__SAMPLES=5``), the YAML file, defaults.

Fields left as ``None`` take their value from the product's risk level
(see ``RISK_DEFAULTS``); anything set explicitly wins over the risk default.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from guard.errors import ConfigError

DEFAULT_CONFIG_FILE = "guard.yaml"


class RiskLevel(str, Enum):
    """What a wrong answer costs the product's users."""

    low = "low"  # inconvenient
    medium = "medium"  # rework
    high = "high"  # financial or legal harm
    critical = "critical"  # safety


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProductSpec(_Section):
    name: str = "app"
    risk: RiskLevel = RiskLevel.medium


class ModelsConfig(_Section):
    """How guard calls models: one place, retries, timeout, fallbacks."""

    default: str = "local/smollm2"
    fallbacks: list[str] = Field(default_factory=list, description="Tried in order when the model fails for good.")
    timeout_s: float = Field(60.0, gt=0)
    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per model, first call included.")
    backoff_initial_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(8.0, ge=0)


class KnowledgeBaseConfig(_Section):
    path: Path = Path(".guard/kb")
    embedding_model: str = Field("all-MiniLM-L6-v2", description="Name of the packaged default or any sentence-transformers model name/path.")
    chunk_size: int = Field(800, ge=100, description="Target chunk size in characters.")
    chunk_overlap: int = Field(120, ge=0)
    exact_search_max: int = Field(50_000, ge=1, description="Past this many chunks the index becomes approximate (HNSW).")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW links per node: more is better recall, more memory.")
    hnsw_ef_construction: int = Field(80, ge=8, description="HNSW build-time beam: more is better recall, slower ingest.")
    hnsw_ef_search: int = Field(128, ge=8, description="HNSW query-time beam: more is better recall, slower search.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "KnowledgeBaseConfig":
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})")
        return self


class GroundingConfig(_Section):
    enabled: bool = True
    top_k: int = Field(4, ge=1, le=50)
    min_score: float = Field(0.30, description="Relevance floor: the dense cosine, or the share of the question's "
                             "identifiers (e.g. ERR-4012) a chunk quotes verbatim; see guard.kb.retrieval.")
    refuse_without_source: bool | None = None


class CitationsConfig(_Section):
    enabled: bool = True
    required: bool | None = None


class SupportConfig(_Section):
    enabled: bool = True
    verifier: Literal["offline", "cross_encoder", "llm_judge"] = "offline"
    cross_encoder_model: str | None = None
    judge_model: str | None = None
    threshold: float = Field(0.5, ge=0, le=1, description="A claim scoring below this is unsupported.")


class ConsistencyConfig(_Section):
    enabled: bool | None = None
    samples: int = Field(3, ge=2, le=16)
    temperature: float = Field(0.8, ge=0, le=2)


class TierStyle(_Section):
    border_color: str
    icon: str
    disclaimer: str | None
    suggested_actions: list[str]


class TiersConfig(_Section):
    high: float = Field(0.85, ge=0, le=1)
    medium: float = Field(0.60, ge=0, le=1)
    styles: dict[str, TierStyle] = Field(
        default_factory=lambda: {
            "high": TierStyle(border_color="#27ae60", icon="check_circle", disclaimer=None, suggested_actions=["Use as is"]),
            "medium": TierStyle(
                border_color="#f39c12",
                icon="info",
                disclaimer="This response may need verification.",
                suggested_actions=["Edit draft", "Escalate"],
            ),
            "low": TierStyle(
                border_color="#e94560",
                icon="warning",
                disclaimer="Low confidence. Please verify before using.",
                suggested_actions=["Verify sources", "Escalate to a human"],
            ),
        }
    )

    @model_validator(mode="after")
    def _ordered(self) -> "TiersConfig":
        if self.medium > self.high:
            raise ValueError(f"tiers.medium ({self.medium}) must not exceed tiers.high ({self.high})")
        missing = {"high", "medium", "low"} - set(self.styles)
        if missing:
            raise ValueError(f"tiers.styles lacks {sorted(missing)}")
        return self


class ReviewConfig(_Section):
    enabled: bool = True
    tiers: list[Literal["high", "medium", "low"]] = Field(default_factory=lambda: ["low"])
    policy: Literal["flag", "block"] | None = None


class StreamingConfig(_Section):
    mode: Literal["buffer", "provisional"] | None = None


class TelemetryConfig(_Section):
    enabled: bool = True
    database: str = Field(".guard/guard.db", description="SQLite file path for records and the review queue.")


class LoggingConfig(_Section):
    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


# What each risk level turns on; explicit settings override these.
RISK_DEFAULTS: dict[RiskLevel, dict[str, Any]] = {
    RiskLevel.low: {"citations.required": False, "consistency.enabled": False, "review.policy": "flag",
                    "streaming.mode": "provisional", "grounding.refuse_without_source": False},
    RiskLevel.medium: {"citations.required": False, "consistency.enabled": False, "review.policy": "flag",
                       "streaming.mode": "provisional", "grounding.refuse_without_source": False},
    RiskLevel.high: {"citations.required": True, "consistency.enabled": True, "review.policy": "block",
                     "streaming.mode": "buffer", "grounding.refuse_without_source": True},
    RiskLevel.critical: {"citations.required": True, "consistency.enabled": True, "review.policy": "block",
                         "streaming.mode": "buffer", "grounding.refuse_without_source": True},
}


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]):
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


_yaml_data: ContextVar[dict[str, Any]] = ContextVar("guard_yaml_data", default={})


class GuardConfig(BaseSettings):
    """Everything guard does is decided here; pass it to ``Guard`` or ``Client``."""

    model_config = SettingsConfigDict(env_prefix="GUARD_", env_nested_delimiter="__", extra="forbid",
                                      validate_assignment=False)

    product: ProductSpec = Field(default_factory=ProductSpec)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    knowledge_base: KnowledgeBaseConfig = Field(default_factory=KnowledgeBaseConfig)
    grounding: GroundingConfig = Field(default_factory=GroundingConfig)
    citations: CitationsConfig = Field(default_factory=CitationsConfig)
    support: SupportConfig = Field(default_factory=SupportConfig)
    consistency: ConsistencyConfig = Field(default_factory=ConsistencyConfig)
    tiers: TiersConfig = Field(default_factory=TiersConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    streaming: StreamingConfig = Field(default_factory=StreamingConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _YamlSource(settings_cls, _yaml_data.get()))

    @model_validator(mode="after")
    def _apply_risk_defaults(self) -> "GuardConfig":
        for dotted, value in RISK_DEFAULTS[self.product.risk].items():
            section_name, field = dotted.split(".")
            section = getattr(self, section_name)
            if getattr(section, field) is None:
                setattr(section, field, value)
        return self

    @field_validator("models")
    @classmethod
    def _model_named(cls, v: ModelsConfig) -> ModelsConfig:
        if not v.default.strip():
            raise ValueError("models.default must name a model")
        return v


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> GuardConfig:
    """Build the config from a YAML file (``GUARD_CONFIG`` or ./guard.yaml when present), env and overrides.

    Raises ``ConfigError`` with one readable line per problem.
    """
    file = Path(path) if path else Path(os.environ.get("GUARD_CONFIG", DEFAULT_CONFIG_FILE))
    data: dict[str, Any] = {}
    if path is not None and not file.exists():
        raise ConfigError(f"config file not found: {file}")
    if file.exists():
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: top level must be a mapping, got {type(loaded).__name__}")
        data = loaded
    return _build(data, overrides, origin=str(file) if file.exists() else "settings")


def _build(yaml_data: dict[str, Any], overrides: dict[str, Any], origin: str) -> GuardConfig:
    token = _yaml_data.set(yaml_data)
    try:
        return GuardConfig(**overrides)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(f"invalid guard config ({origin}):\n" + "\n".join(lines)) from None
    finally:
        _yaml_data.reset(token)
