"""Configuration as data: one pydantic model, from guard.yaml, environment and code.

Precedence, highest first: keyword arguments, ``GUARD_*`` environment variables
(nested with ``__``, e.g. ``GUARD_CONSISTENCY__SAMPLES=5``), the YAML file, defaults.

Fields left as ``None`` take their value from the product's risk level
(see ``RISK_DEFAULTS``); anything set explicitly wins over the risk default.
"""

from __future__ import annotations

import hashlib
import os
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

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
    """The product spec people already write down; the fields that map to behaviour drive it (see GuardConfig)."""

    name: str = "app"
    persona: str | None = Field(None, description="Who uses the product, e.g. 'support agent drafting replies'.")
    job_to_be_done: str | None = Field(None, description="What the user hires the product to do.")
    risk: RiskLevel = RiskLevel.medium
    requires_citations: bool | None = Field(None, description="Sets citations.required unless that is set.")
    human_review_required: bool | None = Field(
        None, description="True: review on and every tier routed to a person, unless review.* is set.")
    max_latency_s: float | None = Field(
        None, gt=0, description="Latency budget: the model timeout (unless models.timeout_s is set) and the report's target.")
    accuracy_target: float = Field(0.9, ge=0, le=1, description="Share of reviewed answers that should be right.")
    daily_requests_estimate: int | None = Field(None, ge=0)
    peak_concurrency_estimate: int | None = Field(None, ge=1)
    pii_handling: Literal["none", "redact", "allowed"] = Field(
        "none", description="redact: mask e-mail, phone, card, IBAN numbers in everything stored and logged.")
    pii_region: str = Field(
        "US", description="ISO 3166 alpha-2 country whose local phone formats (no +country) are masked, e.g. 'GB'.")
    data_residency: str | None = Field(None, description="Where data must stay, e.g. 'eu'; recorded, not enforced.")

    @field_validator("pii_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        from phonenumbers import SUPPORTED_REGIONS  # here, not at import: the config loads before anything heavy

        code = value.strip().upper()
        if code not in SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code with phone numbers, e.g. 'US', 'GB'")
        return code


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
    verifier: Literal["combined", "offline", "support_model", "cross_encoder", "llm_judge"] = "combined"
    cross_encoder_model: str | None = None
    judge_model: str | None = None
    threshold: float | None = Field(
        None, ge=0, le=1,
        description="A claim scoring below this is unsupported; None: the verifier's operating point chosen for "
                    "the product's risk level on held-out data.")


class ConsistencyConfig(_Section):
    enabled: bool | None = None
    samples: int = Field(3, ge=2, le=16)
    temperature: float = Field(0.8, ge=0, le=2)


class TierStyle(_Section):
    border_color: str
    icon: str
    disclaimer: str | None
    suggested_actions: list[str]


# A reply that only calls tools: nothing was checked, so no confidence and no disclaimer either.
UNVERIFIED_STYLE = TierStyle(border_color="#95a5a6", icon="build", disclaimer=None, suggested_actions=[])


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
            "unverified": UNVERIFIED_STYLE,
        }
    )

    @model_validator(mode="after")
    def _ordered(self) -> "TiersConfig":
        if self.medium > self.high:
            raise ValueError(f"tiers.medium ({self.medium}) must not exceed tiers.high ({self.high})")
        missing = {"high", "medium", "low"} - set(self.styles)
        if missing:
            raise ValueError(f"tiers.styles lacks {sorted(missing)}")
        self.styles.setdefault("unverified", UNVERIFIED_STYLE)
        return self


class ReviewConfig(_Section):
    enabled: bool = True
    tiers: list[Literal["high", "medium", "low"]] = Field(default_factory=lambda: ["low"])
    policy: Literal["flag", "block"] | None = None
    expire_after_s: float | None = Field(3 * 24 * 3600, gt=0, description="Pending items expire after this long "
                                         "(default 3 days); null keeps them until decided.")
    repeat_window_s: float | None = Field(600, gt=0, description="The same conversation (same caller, same "
                                          "messages) sent again within this long joins its pending review item "
                                          "instead of filing another (framework retries); null files every one.")
    webhook_url: str | None = Field(None, description="POSTed each decision on a held answer, signed; see guard.webhook.")
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key shared with the receiver; set it from GUARD_REVIEW__WEBHOOK_SECRET, never logged.")
    webhook_max_attempts: int = Field(5, ge=1, le=20, description="POST attempts per event, first included; 5xx, "
                                      "timeouts and connection errors are retried with backoff.")

    @model_validator(mode="after")
    def _webhook_signed(self) -> "ReviewConfig":
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("review.webhook_url needs review.webhook_secret (GUARD_REVIEW__WEBHOOK_SECRET) to sign events")
        return self


class StreamingConfig(_Section):
    mode: Literal["buffer", "provisional"] | None = None


class TelemetryConfig(_Section):
    """Where records, feedback and the review queue live, and how request records are written.

    ``enabled: false`` turns off request records only: the review queue is always durable.
    """

    enabled: bool = True
    database: str = Field(".guard/guard.db", description="A SQLite file path, a sqlite:/// URL, or a postgresql:// "
                          "URL shared by every worker and host serving the product.")
    queue_size: int = Field(10_000, ge=1, description="Records waiting for the background writer; past this, new "
                            "records are dropped and counted as store write failures.")
    batch_size: int = Field(200, ge=1, description="Records the background writer commits per transaction.")
    busy_timeout_s: float = Field(5.0, ge=0, description="How long a SQLite write waits for a lock held elsewhere.")


class LoggingConfig(_Section):
    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


class ReportConfig(_Section):
    """Targets and thresholds of the product health report (``guard report``).

    Defaults are the usual LLM product dashboard's. The accuracy target is
    ``product.accuracy_target``; the latency target falls back to ``product.max_latency_s``.
    """

    hallucination_rate_max: float = Field(0.05, ge=0, le=1, description="Share of answers with unsupported claims.")
    latency_p95_max_s: float | None = Field(None, gt=0, description="Default: product.max_latency_s, else 5 s.")
    thumbs_up_min: float = Field(0.80, ge=0, le=1, description="Share of rated answers rated thumbs-up.")
    edit_rate_max: float = Field(0.30, ge=0, le=1, description="Share of drafts changed before they were sent.")
    deflection_min: float = Field(0.40, ge=0, le=1, description="Share of requests answered without a person.")
    resolution_min: float | None = Field(None, ge=0, le=1, description="Share resolved, where feedback says.")
    cost_per_answer_max_usd: float | None = Field(None, ge=0)
    warn_margin: float = Field(0.10, ge=0, le=1, description="A miss within this fraction of the target is WARN, "
                               "beyond it FAIL.")
    drift_window_days: float = Field(1.0, gt=0, description="The recent window compared with the rest of the report's.")
    drift_psi_threshold: float = Field(0.2, gt=0, description="Tier-mix PSI above this raises a drift alert.")
    drift_confidence_delta: float = Field(0.05, gt=0, description="A mean-confidence move above this raises an alert.")
    drift_min_requests: int = Field(30, ge=1, description="Fewer requests in either window: no drift verdict.")


Override = Literal["risk", "samples", "knowledge_base", "review_policy"]
_DIGEST = "sha256:"


def key_digest(key: str) -> str:
    """``sha256:<hex>`` of an API key: how keys are configured in files and compared, never the key itself."""
    return _DIGEST + hashlib.sha256(key.encode()).hexdigest()


class ServerConfig(_Section):
    """The OpenAI-compatible HTTP proxy started by ``guard serve``.

    API keys are kept only as ``sha256:<hex>`` digests. In YAML they must be
    written as digests (``printf %s "$KEY" | sha256sum``); plain keys are accepted
    only from the environment (``GUARD_SERVER__API_KEYS=key1,key2``) or code, and
    are hashed on load. With no key configured, the server binds to loopback only.
    """

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes; share records through PostgreSQL.")
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Bearer keys for the completion, feedback and "
                                "request routes (digests in YAML; admin keys are accepted there too).")
    admin_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Bearer keys for the review and metrics routes.")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    allow_overrides: list[Override] = Field(default_factory=list, description="Per-request settings a client may "
                                            "send in the body's `guard` field; anything else is a 400.")
    knowledge_bases: dict[str, Path] = Field(default_factory=dict, description="Knowledge bases a request may pick by "
                                             "name with guard.knowledge_base (the config's own is 'default').")
    models: list[str] = Field(default_factory=list, description="Models clients may name besides models.default "
                              "and models.fallbacks.")
    graceful_timeout_s: float = Field(30.0, gt=0, description="How long shutdown waits for in-flight requests.")
    warm_up: bool = Field(True, description="Load the enabled layers' models (embedder, knowledge base index, "
                          "support verifier) when the server starts, in a thread; /readyz is 503 until done. "
                          "Off: they load on the first request that needs them.")
    console_secret: SecretStr | None = Field(None, description="Signs review console sessions; set it (from "
                                             "GUARD_SERVER__CONSOLE_SECRET) when several workers serve the console.")
    console_failed_logins: str = Field("10 per 15 minutes", description="Failed console logins allowed per client "
                                       "address (a `limits` rate, e.g. '5 per minute'); more get 429 until the "
                                       "window moves on.")

    @field_validator("console_failed_logins")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate like '10 per 15 minutes'") from None
        return value

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _as_digests(cls, value: Any) -> Any:
        if isinstance(value, str):  # GUARD_SERVER__API_KEYS=key1,key2
            value = [k for k in value.split(",") if k.strip()]
        if not isinstance(value, list):
            return value
        digests = []
        for key in value:
            if not isinstance(key, str) or not key.strip():
                raise ValueError("each key must be a non-empty string")
            key = key.strip()
            if key.startswith(_DIGEST):
                hexpart = key[len(_DIGEST):].lower()
                if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
                    raise ValueError("a 'sha256:' key must be followed by 64 hex digits")
                digests.append(_DIGEST + hexpart)
            else:
                digests.append(key_digest(key))
        return digests


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
    report: ReportConfig = Field(default_factory=ReportConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _YamlSource(settings_cls, _yaml_data.get()))

    @model_validator(mode="after")
    def _apply_risk_defaults(self) -> "GuardConfig":
        self._apply_product_spec()
        explicit_mode = self.streaming.mode
        for dotted, value in RISK_DEFAULTS[self.product.risk].items():
            section_name, field = dotted.split(".")
            section = getattr(self, section_name)
            if getattr(section, field) is None:
                setattr(section, field, value)
        if self.review.policy == "block":  # a held answer must not have been streamed already
            if explicit_mode == "provisional":
                raise ValueError("streaming.mode 'provisional' cannot be used with review.policy 'block': the "
                                 "unverified answer would reach the user before it is held; use 'buffer'")
            self.streaming.mode = "buffer"
        return self

    def _apply_product_spec(self) -> None:
        """Let the spec's behavioural fields fill what the user did not set; explicit settings always win."""
        spec = self.product
        if spec.requires_citations is not None and self.citations.required is None:
            self.citations.required = spec.requires_citations
        if spec.human_review_required:
            if "enabled" not in self.review.model_fields_set:
                self.review.enabled = True
            if "tiers" not in self.review.model_fields_set:
                self.review.tiers = ["high", "medium", "low"]
        if spec.max_latency_s is not None and "timeout_s" not in self.models.model_fields_set:
            self.models.timeout_s = spec.max_latency_s

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
        _reject_plain_keys(data, file)
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


def _reject_plain_keys(data: dict[str, Any], file: Path) -> None:
    """A key written in a file leaks with the file: YAML takes only digests."""
    server = data.get("server")
    if not isinstance(server, dict):
        return
    for name in ("api_keys", "admin_keys"):
        keys = server.get(name) or []
        keys = keys.split(",") if isinstance(keys, str) else keys
        if isinstance(keys, list) and any(isinstance(k, str) and not k.strip().startswith(_DIGEST) for k in keys):
            raise ConfigError(f"{file}: server.{name} must list 'sha256:<hex>' digests (printf %s \"$KEY\" | "
                              f"sha256sum), not keys; pass plain keys only as GUARD_SERVER__{name.upper()}")
