"""Configuration as data: one pydantic model, from guard.yaml, environment and code.

Precedence, highest first: keyword arguments, ``GUARD_*`` environment variables
(nested with ``__``, e.g. ``GUARD_CONSISTENCY__SAMPLES=5``), the YAML file, defaults.

Fields left as ``None`` take their value from the product's risk level
(see ``RISK_DEFAULTS``); anything set explicitly wins over the risk default.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import os
from contextvars import ContextVar
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator,
                      model_validator)
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


class Endpoint(_Section):
    """Where one model is served, as LiteLLM's model list says it: an OpenAI-compatible vLLM or Ollama beside a
    hosted model. The key stays in the environment: only the variable's name is configuration."""

    base_url: str = Field(pattern=r"^https?://\S+$", description="The server's API root, e.g. http://vllm:8000/v1.")
    api_key_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The environment variable holding this server's key, read at each call; None: no key (a "
                    "local server); the process-wide OPENAI_API_KEY is never sent here.")
    timeout_s: float | None = Field(None, gt=0, description="Per call to this model; None: models.timeout_s.")


class ModelsConfig(_Section):
    """How guard calls models: one place, retries, timeout, fallbacks."""

    default: str = "local/smollm2"
    fallbacks: list[str] = Field(default_factory=list, description="Tried in order when the model fails for good.")
    timeout_s: float = Field(60.0, gt=0)
    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per model, first call included.")
    backoff_initial_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(8.0, ge=0)
    deadline_s: float | None = Field(None, gt=0, description="The whole call, every retry and fallback included, "
                                     "ends within this (a 504 past it); default: product.max_latency_s, else "
                                     "twice the longest timeout_s (an endpoint's included).")
    max_n: int = Field(8, ge=1, le=128, description="The most choices (`n`) a client may ask for; more is a 400.")
    endpoints: dict[str, Endpoint] = Field(
        default_factory=dict, description="Model name (as `default`, `fallbacks`, `server.models` name it) -> its "
                                          "server; a model not listed goes where its provider's settings say.")


class KnowledgeBaseConfig(_Section):
    backend: Literal["local", "postgres"] = Field(
        "local", description="local: faiss + SQLite files at path, one host; postgres: tables with pgvector in "
                             "database, shared by every worker and host.")
    path: Path = Path(".guard/kb")
    database: str | None = Field(None, description="postgresql:// URL of the knowledge base (backend postgres); "
                                                   "may be the records' database (telemetry.database).")
    name: str = Field("default", min_length=1, max_length=200,
                      description="Which knowledge base in database: several named ones share it (backend postgres).")
    embedding_model: str = Field("all-MiniLM-L6-v2", description="Name of the packaged default or any sentence-transformers model name/path.")
    chunk_size: int = Field(800, ge=100, description="Target chunk size in characters.")
    chunk_overlap: int = Field(120, ge=0)
    exact_search_max: int = Field(50_000, ge=1, description="Past this many chunks the local index becomes approximate (HNSW); PostgreSQL's is HNSW at every size.")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW links per node: more is better recall, more memory.")
    hnsw_ef_construction: int = Field(80, ge=8, description="HNSW build-time beam: more is better recall, slower ingest.")
    hnsw_ef_search: int = Field(128, ge=8, description="HNSW query-time beam: more is better recall, slower search.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "KnowledgeBaseConfig":
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})")
        return self

    def named(self, entry: Path | str) -> "KnowledgeBaseConfig":
        """These settings for an entry of ``server.knowledge_bases``: a folder, or with backend postgres a name
        in the same database."""
        return self.model_copy(update={"name": str(entry)} if self.backend == "postgres" else {"path": Path(entry)})

    @model_validator(mode="after")
    def _postgres_has_a_database(self) -> "KnowledgeBaseConfig":
        if self.backend == "postgres" and not (self.database or "").startswith(("postgresql://", "postgres://",
                                                                              "postgresql+psycopg://")):
            raise ValueError("knowledge_base.backend postgres needs knowledge_base.database: a postgresql:// URL")
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
    precision: Literal["fp32", "int8"] = Field(
        "int8", description="The local verifiers' MiniLM graphs: int8 weights (quantized at load) cost about half "
                            "the CPU per word piece of fp32; the combined verifier's operating points and calibration "
                            "are fitted on each precision's own scores (both measured in README).")
    threshold: float | None = Field(
        None, ge=0, le=1,
        description="A claim scoring below this is unsupported; None: the verifier's operating point chosen for "
                    "the product's risk level on held-out data.")
    calibration: str | None = Field(
        None, description="A support calibration file `guard calibrate --out` wrote, fitted on this product's labels: "
                          "its confidence map and operating points replace the verifier's shipped ones. A calibration "
                          "activated in the store (`guard calibrate --activate`) takes precedence.")


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
    unsure: float = Field(0.20, ge=0, le=1, description="Below this confidence an answer is low even when the "
                          "support check flagged none of its claims: its other signals (token confidence, "
                          "retrieval, consistency) say it is probably wrong.")
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
    audit_fraction: float = Field(0.02, ge=0, le=1, description="Share of unflagged answers (support checked, no "
                                  "unsupported claim) also queued as `audit` items, never held, so the report can "
                                  "count what guard missed.")
    repeat_window_s: float | None = Field(600, gt=0, description="The same conversation (same caller, same "
                                          "messages) sent again within this long joins its pending review item "
                                          "instead of filing another (framework retries); null files every one.")
    webhook_url: str | None = Field(None, description="POSTed each decision or expiry of a held answer, signed, from the "
                                       "store's outbox; see guard.webhook.")
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key shared with the receiver; set it from GUARD_REVIEW__WEBHOOK_SECRET, never logged.")
    webhook_max_attempts: int = Field(10, ge=1, le=20, description="POST attempts per event, first included; "
                                      "5xx, 429, timeouts and connection errors are retried with backoff (from 1 s, "
                                      "doubling, jittered, at most 5 min apart: 10 attempts span 4 to 8 minutes).")
    notify: Literal["webhook", "poll"] | None = Field(
        None, description="How the app learns that a held answer was decided or expired: 'webhook' (events POSTed "
                          "to webhook_url from the store's outbox) or 'poll' (GET /v1/requests/{id}, "
                          "Guard.review_for). Default: webhook when webhook_url is set, else poll.")
    retention_days: float | None = Field(None, gt=0, description="Decided and expired items older than this are "
                                         "deleted (with their history and sent events); pending ones are kept. "
                                         "null keeps them all.")

    @property
    def delivery(self) -> Literal["webhook", "poll"]:
        """How the app learns decisions: ``notify`` when set, else webhook with a ``webhook_url``, else poll."""
        return self.notify or ("webhook" if self.webhook_url else "poll")

    @model_validator(mode="after")
    def _webhook_signed(self) -> "ReviewConfig":
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("review.webhook_url needs review.webhook_secret (GUARD_REVIEW__WEBHOOK_SECRET) to sign events")
        if self.notify == "webhook" and not self.webhook_url:
            raise ValueError("review.notify 'webhook' needs review.webhook_url; with 'poll' the app asks "
                             "GET /v1/requests/{id} for the decision")
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
    retention_days: float | None = Field(None, gt=0, description="Request records, their feedback and refused "
                                         "records older than this are deleted in the background; null keeps them.")
    purge_interval_s: float = Field(3600.0, gt=0, description="How often the background purge runs when a "
                                    "retention is set (telemetry.retention_days, review.retention_days).")


class LoggingConfig(_Section):
    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


class ReportConfig(_Section):
    """Targets and thresholds of the product health report (``guard report``).

    Defaults are the usual LLM product dashboard's. The accuracy target is
    ``product.accuracy_target``; the latency target falls back to ``product.max_latency_s``.
    """

    hallucination_rate_max: float = Field(0.05, ge=0, le=1, description="Share of answers hallucinated, as estimated "
                                          "from reviewers' labels and the audit sample (not the flag rate).")
    latency_p95_max_s: float | None = Field(None, gt=0, description="Default: product.max_latency_s, else 5 s.")
    thumbs_up_min: float = Field(0.80, ge=0, le=1, description="Share of rated answers rated thumbs-up.")
    edit_rate_max: float = Field(0.30, ge=0, le=1, description="Share of drafts changed before they were sent.")
    deflection_min: float = Field(0.40, ge=0, le=1, description="Share of requests answered without a person.")
    resolution_min: float | None = Field(None, ge=0, le=1, description="Share resolved, where feedback says.")
    cost_per_answer_max_usd: float | None = Field(None, ge=0)
    warn_margin: float = Field(0.10, ge=0, le=1, description="A settled miss whose value is within this fraction of "
                               "the target is WARN, beyond it FAIL.")
    min_items: int = Field(10, ge=1, description="Fewer items than this never give PASS or FAIL, whatever the interval.")
    max_window_days: float = Field(92, gt=0, description="Longest window a report covers (bounds its queries).")
    drift_alpha: float = Field(0.05, gt=0, lt=1, description="A drift is beyond chance when its test's p-value is below this.")
    drift_window_days: float = Field(1.0, gt=0, description="The recent window compared with the rest of the report's.")
    drift_psi_threshold: float = Field(0.2, gt=0, description="Tier-mix PSI above this raises a drift alert.")
    drift_confidence_delta: float = Field(0.05, gt=0, description="A mean-confidence move above this raises an alert.")
    drift_min_requests: int = Field(30, ge=1, description="Fewer requests in either window: no drift verdict.")


Override = Literal["risk", "samples", "knowledge_base", "review_policy"]
_DIGEST = "sha256:"
MIN_KEY_LENGTH = 16


def key_digest(key: str) -> str:
    """``sha256:<hex>`` of an API key: how keys are configured in files and compared, never the key itself."""
    return _DIGEST + hashlib.sha256(key.encode()).hexdigest()


def _checked_digest(value: str) -> str:
    hexpart = value[len(_DIGEST):].lower()
    if not value.startswith(_DIGEST) or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ValueError("a digest is 'sha256:' followed by 64 hex digits (printf %s \"$KEY\" | sha256sum)")
    return _DIGEST + hexpart


class ApiKey(_Section):
    """One bearer key, known by its name: records, the report and the limits say which key made a request."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                      description="How records, the report and reviews name the key; never the key itself.")
    digest: str = Field(description="sha256:<hex> of the key (printf %s \"$KEY\" | sha256sum).")
    admin: bool = Field(False, description="Also opens the review routes, metrics and the console.")
    requests_per_minute: int | None = Field(None, ge=1, description="Requests allowed per moving minute, counted "
                                            "by each worker process; more get 429 rate_limit_exceeded.")
    usd_per_day: float | None = Field(None, gt=0, description="Model spend allowed per UTC day, summed over every "
                                      "worker from the store; past it, 429 insufficient_quota until midnight UTC.")

    @field_validator("digest")
    @classmethod
    def _a_digest(cls, value: str) -> str:
        return _checked_digest(value.strip())


class ServerConfig(_Section):
    """The OpenAI-compatible HTTP proxy started by ``guard serve``.

    API keys are kept only as ``sha256:<hex>`` digests. In YAML they must be
    written as digests (``printf %s "$KEY" | sha256sum``); plain keys are accepted
    only from the environment (``GUARD_SERVER__API_KEYS=key1,key2``) or code, and
    are hashed on load. ``keys`` names each key and sets its limits. With no key
    configured, the server binds to loopback only.
    """

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes; share records through PostgreSQL.")
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Bearer keys for the completion, feedback and "
                                "request routes (digests in YAML; admin keys are accepted there too).")
    admin_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Bearer keys for the review and metrics routes.")
    keys: list[ApiKey] = Field(default_factory=list, description="Named keys (name, digest, admin, "
                               "requests_per_minute, usd_per_day): requests are recorded under the key's name.")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    allow_overrides: list[Override] = Field(default_factory=list, description="Per-request settings a client may "
                                            "send in the body's `guard` field; anything else is a 400.")
    knowledge_bases: dict[str, Path] = Field(default_factory=dict, description="Knowledge bases a request may pick by "
                                             "name with guard.knowledge_base (the config's own is 'default'): "
                                             "folders, or with knowledge_base.backend postgres, names in its database.")
    models: list[str] = Field(default_factory=list, description="Models clients may name besides models.default "
                              "and models.fallbacks.")
    embedding_models: list[str] = Field(default_factory=list, description="Embedding models clients may name "
                                        "besides knowledge_base.embedding_model (which guard answers itself); "
                                        "these go to their provider.")
    graceful_timeout_s: float = Field(30.0, gt=0, description="How long shutdown waits for in-flight requests.")
    worker_healthcheck_s: int = Field(60, ge=1, description="With several workers: how long one may take to answer "
                                      "uvicorn's health check, start-up (importing guard) included, before it is "
                                      "replaced. uvicorn's 5 s killed every worker of a busy 2-core machine.")
    warm_up: bool = Field(True, description="Load the enabled layers' models (embedder, knowledge base index, "
                          "support verifier) when the server starts, in a thread; /readyz is 503 until done. "
                          "Off: they load on the first request that needs them.")
    experiments_refresh_s: float = Field(2.0, gt=0, description="How often each worker re-reads the experiment "
                                         "definitions from the store (start, pause, end need no restart).")
    console_secret: SecretStr | None = Field(None, description="Signs review console sessions; set it (from "
                                             "GUARD_SERVER__CONSOLE_SECRET) when several workers serve the console.")
    console_failed_logins: str = Field("10 per 15 minutes", description="Failed console logins allowed per client "
                                       "address (a `limits` rate, e.g. '5 per minute'); more get 429 until the "
                                       "window moves on.")
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"], description="Reverse proxies (addresses or networks, '*' for "
        "any) whose X-Forwarded-For names the client: the address failed console logins are counted by.")

    @field_validator("console_failed_logins")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate like '10 per 15 minutes'") from None
        return value

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):  # GUARD_SERVER__FORWARDED_ALLOW_IPS=10.0.0.0/8,192.168.1.2
            value = [v.strip() for v in value.split(",") if v.strip()]
        for entry in value if isinstance(value, list) else []:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is neither an IP address, a network like 10.0.0.0/8 nor '*'") from None
        return value

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _as_digests(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lstrip().startswith("["):  # GUARD_SERVER__API_KEYS='["k1","k2"]'
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("starts with '[' but is not a JSON list of keys; write key1,key2 or "
                                 "[\"key1\",\"key2\"]") from None
        elif isinstance(value, str):  # GUARD_SERVER__API_KEYS=key1,key2
            value = [k for k in value.split(",") if k.strip()]
        if not isinstance(value, list):
            return value
        digests = []
        for key in value:
            if not isinstance(key, str) or not key.strip():
                raise ValueError("each key must be a non-empty string")
            key = key.strip()
            if key.startswith(_DIGEST):
                digests.append(_checked_digest(key))
            elif len(key) < MIN_KEY_LENGTH:  # the key itself is never quoted back
                raise ValueError(f"a key must be at least {MIN_KEY_LENGTH} characters long (got one of {len(key)}); "
                                 "make one with: openssl rand -hex 24")
            else:
                digests.append(key_digest(key))
        return digests

    @model_validator(mode="after")
    def _keys_distinct(self) -> "ServerConfig":
        names = [k.name for k in self.keys]
        if len(set(names)) != len(names):
            raise ValueError("server.keys: two keys share a name")
        digests = [k.digest for k in self.keys]
        if len(set(digests)) != len(digests) or set(digests) & set(self.api_keys + self.admin_keys):
            raise ValueError("server.keys: a digest is listed twice (in keys, api_keys or admin_keys)")
        return self

    @cached_property
    def named_keys(self) -> dict[str, ApiKey]:
        """Every key by digest; one from ``api_keys``/``admin_keys`` is named by its digest's first 8 hex digits."""
        found = {d: ApiKey(name=f"sha256-{d[len(_DIGEST):][:8]}", digest=d) for d in self.api_keys}
        found.update({d: ApiKey(name=f"sha256-{d[len(_DIGEST):][:8]}", digest=d, admin=True) for d in self.admin_keys})
        found.update({k.digest: k for k in self.keys})
        return found


class SettingsOverrides(_Section):
    """Guard settings a request (``server.allow_overrides``) or an experiment's variant may change."""

    risk: RiskLevel | None = None
    samples: int | None = Field(None, ge=1, le=16, description="1 turns self-consistency off.")
    knowledge_base: str | None = Field(None, max_length=200, description="A name from server.knowledge_bases.")
    review_policy: Literal["flag", "block"] | None = None


class ExperimentVariant(SettingsOverrides):
    """One arm of an experiment: what it changes against the served config (nothing, for control)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    weight: float = Field(1.0, gt=0, description="Share of traffic, relative to the other variants' weights.")
    system_prompt: str | None = Field(None, description="A name from `prompts`: replaces the request's system "
                                                        "message (or is added as one).")
    models: dict[str, Any] | None = Field(None, description="models.* settings for this variant, e.g. "
                                                            "{default: gpt-4o-mini}; the variant's default model "
                                                            "answers whatever model the client named.")

    def settings(self) -> SettingsOverrides:
        return SettingsOverrides(**self.model_dump(include=set(SettingsOverrides.model_fields)))


ExperimentMetric = Literal["edit_rate", "thumbs_up_ratio", "hallucination_rate", "review_rate", "latency_p95_ms",
                           "cost_per_answer_usd"]


class ExperimentConfig(_Section):
    """An A/B test on live traffic (``guard experiment``); the YAML seeds the store, the store is what runs."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    variants: list[ExperimentVariant] = Field(min_length=2)
    control: str | None = Field(None, description="The variant the others are compared with; default the first.")
    assign_by: Literal["user", "request"] = Field(
        "user", description="user: the OpenAI `user` field or the x-guard-user header (per request without one).")
    primary_metric: ExperimentMetric = "edit_rate"
    guardrails: dict[ExperimentMetric, str] = Field(
        default_factory=dict, description="How much worse a variant may be before it fails, absolute (+0.02) or "
                                          "relative to control (+20%).")

    @model_validator(mode="after")
    def _consistent(self) -> "ExperimentConfig":
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name!r}: variant names repeat: {names}")
        if self.control is None:
            self.control = names[0]
        elif self.control not in names:
            raise ValueError(f"experiment {self.name!r}: control {self.control!r} is not one of its variants {names}")
        for metric, allowed in self.guardrails.items():
            parse_margin(allowed, where=f"experiment {self.name!r} guardrail {metric}")
        return self


def parse_margin(text: Any, *, where: str) -> tuple[float, bool]:
    """``"+0.02"`` -> (0.02, False), ``"+20%"`` -> (0.2, True): how much worse a guardrail metric may get."""
    raw = str(text).strip()
    relative = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a margin like +0.02 or +20%") from None
    if value < 0:
        raise ValueError(f"{where}: a margin is how much worse is allowed, so it cannot be negative ({text!r})")
    return (value / 100 if relative else value), relative


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

    # hide_input_in_errors: an error must not quote what was given, which may be a plain API key.
    model_config = SettingsConfigDict(env_prefix="GUARD_", env_nested_delimiter="__", extra="forbid",
                                      validate_assignment=False, hide_input_in_errors=True)

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
    experiments: list[ExperimentConfig] = Field(default_factory=list, description="A/B tests on live traffic; "
                                                "seeds the store, see `guard experiment`.")
    prompts: dict[str, str] = Field(default_factory=dict, description="Named, versioned system prompts "
                                    "(e.g. concise-v2) that experiment variants use.")
    # The "section.field" settings the risk level chose because none was given: what a risk override may re-derive.
    _risk_filled: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def risk_filled(self) -> frozenset[str]:
        return self._risk_filled

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _YamlSource(settings_cls, _yaml_data.get()))

    @model_validator(mode="after")
    def _apply_risk_defaults(self) -> "GuardConfig":
        self._apply_product_spec()
        explicit_mode = self.streaming.mode
        filled = set()
        for dotted, value in RISK_DEFAULTS[self.product.risk].items():
            section_name, field = dotted.split(".")
            section = getattr(self, section_name)
            if getattr(section, field) is None:  # not model_fields_set: the product spec fills some, and null means unset
                _derive(section, field, value)
                filled.add(dotted)
        self._risk_filled = frozenset(filled)
        if self.review.policy == "block":  # a held answer must not have been streamed already
            if explicit_mode == "provisional":
                raise ValueError("streaming.mode 'provisional' cannot be used with review.policy 'block': the "
                                 "unverified answer would reach the user before it is held; use 'buffer'")
            _derive(self.streaming, "mode", "buffer")
        return self

    def _apply_product_spec(self) -> None:
        """Let the spec's behavioural fields fill what the user did not set; explicit settings always win."""
        spec = self.product
        if spec.requires_citations is not None and self.citations.required is None:
            _derive(self.citations, "required", spec.requires_citations)
        if spec.human_review_required:
            if "enabled" not in self.review.model_fields_set:
                _derive(self.review, "enabled", True)
            if "tiers" not in self.review.model_fields_set:
                _derive(self.review, "tiers", ["high", "medium", "low"])
        if spec.max_latency_s is not None and "timeout_s" not in self.models.model_fields_set:
            _derive(self.models, "timeout_s", spec.max_latency_s)
        if "deadline_s" not in self.models.model_fields_set:
            longest = max([self.models.timeout_s, *(e.timeout_s or 0 for e in self.models.endpoints.values())])
            _derive(self.models, "deadline_s", spec.max_latency_s or 2 * longest)

    @model_validator(mode="after")
    def _experiments_consistent(self) -> "GuardConfig":
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment names repeat: {names}")
        for experiment in self.experiments:
            for variant in experiment.variants:
                where = f"experiment {experiment.name!r} variant {variant.name!r}"
                if variant.system_prompt is not None and variant.system_prompt not in self.prompts:
                    raise ValueError(f"{where}: system_prompt {variant.system_prompt!r} is not in prompts "
                                     f"({', '.join(sorted(self.prompts)) or 'none'})")
                if variant.knowledge_base is not None and variant.knowledge_base not in self.server.knowledge_bases:
                    raise ValueError(f"{where}: knowledge_base {variant.knowledge_base!r} is not in "
                                     "server.knowledge_bases")
                if variant.models is not None:
                    try:
                        ModelsConfig(**{**self.models.model_dump(), **variant.models})
                    except ValidationError as exc:
                        raise ValueError(f"{where}: models: {exc.errors()[0]['msg']}") from None
        return self

    @field_validator("models")
    @classmethod
    def _model_named(cls, v: ModelsConfig) -> ModelsConfig:
        if not v.default.strip():
            raise ValueError("models.default must name a model")
        return v


def _derive(section: BaseModel, field: str, value: Any) -> None:
    """Set a value the risk level or the product spec implies; it stays unset, so a rebuild derives it anew."""
    setattr(section, field, value)
    section.model_fields_set.discard(field)


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> GuardConfig:
    """Build the config from a YAML file (``GUARD_CONFIG`` or ./guard.yaml when present), env and overrides.

    Raises ``ConfigError`` with one readable line per problem: a file named (by ``path`` or ``GUARD_CONFIG``)
    that does not exist, a ``GUARD_*`` variable that names no setting, each invalid value with where it came from.
    """
    named = path or os.environ.get("GUARD_CONFIG") or None
    file = Path(named) if named else Path(DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if named is not None and not file.is_file():
        source = "" if path else " (GUARD_CONFIG)"
        raise ConfigError(f"config file not found: {file}{source}")
    _check_environment()
    if file.exists():
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: top level must be a mapping, got {type(loaded).__name__}")
        data = loaded
        _reject_plain_keys(data, file)
    return _build(data, overrides, origin=str(file) if file.exists() else "no config file")


def configured(config: GuardConfig, overrides: dict[str, Any]) -> GuardConfig:
    """``config`` with keyword ``overrides`` (``product={...}``) merged in and validated as a file's would be.

    Only what was set explicitly is carried over, so the risk defaults follow an overridden ``product.risk``.
    """
    if not overrides:
        return config
    return _build({}, _merged(config.model_dump(exclude_unset=True), overrides), origin="keyword arguments",
                  environment=False)


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_unset=True)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _merged(merged[key], value)
        merged[key] = value
    return merged


def _build(yaml_data: dict[str, Any], overrides: dict[str, Any], origin: str, environment: bool = True) -> GuardConfig:
    token = _yaml_data.set(yaml_data)
    try:
        if environment:
            return GuardConfig(**overrides)
        return GuardConfig.model_validate(overrides)  # no settings sources: the values given, checked
    except ValidationError as exc:
        lines = [_problem(err, environment) for err in exc.errors()]
        raise ConfigError(f"invalid guard config ({origin}):\n" + "\n".join(lines)) from None
    finally:
        _yaml_data.reset(token)


# GUARD_* variables that are not settings: the config file's name, the test suite's database.
_NOT_SETTINGS = frozenset({"GUARD_CONFIG"})
_NOT_SETTINGS_PREFIX = "GUARD_TEST_"


def _check_environment() -> None:
    """A ``GUARD_*`` variable that names no setting is a typo whose value would be silently ignored."""
    for name in sorted(os.environ):
        upper = name.upper()
        if not upper.startswith("GUARD_") or upper in _NOT_SETTINGS or upper.startswith(_NOT_SETTINGS_PREFIX):
            continue
        path = upper.removeprefix("GUARD_").lower().split("__")
        problem = _unknown_key(path)
        if problem is not None:
            wrong, known = problem
            hint = _nearest(wrong[-1], known)
            suggestion = f"; did you mean GUARD_{'__'.join([*wrong[:-1], hint]).upper()}?" if hint else ""
            raise ConfigError(f"environment variable {name} names no guard setting ({'.'.join(wrong)}){suggestion}")


def _unknown_key(path: list[str]) -> tuple[list[str], list[str]] | None:
    """The first part of a dotted path GuardConfig has no field for, with the names it does have; None if known."""
    model: Any = GuardConfig
    for depth, part in enumerate(path):
        fields = getattr(model, "model_fields", None)
        if fields is None:  # a dict or list field: any key below it is the field's own business
            return None
        if part not in fields:
            return path[:depth + 1], list(fields)
        model = fields[part].annotation
    return None


def _nearest(word: str, candidates: list[str]) -> str | None:
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def _problem(err: Any, environment: bool) -> str:
    """One line: the setting (or the environment variable that set it) and what is wrong with it."""
    loc = [str(p) for p in err["loc"]]
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        hint = _nearest(loc[-1], list(parent.model_fields)) if parent is not None else None
        message = "unknown key" + (f"; did you mean {'.'.join([*loc[:-1], hint])}?" if hint else "")
    variable = _variable_for(loc) if environment else None
    where = f"{variable} (environment variable)" if variable else ".".join(loc) or "(root)"
    return f"  {where}: {message}"


def _model_at(loc: list[str]) -> Any:
    model: Any = GuardConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        model = fields[part].annotation
    return model if hasattr(model, "model_fields") else None


def _variable_for(loc: list[str]) -> str | None:
    """The ``GUARD_*`` variable that set this value (or the section it belongs to), if one did."""
    names = {name.upper(): name for name in os.environ}
    for depth in range(len(loc), 0, -1):
        name = names.get("GUARD_" + "__".join(loc[:depth]).upper())
        if name is not None:
            return name
    return None


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
