"""Which verifier the config asks for, built once per process (models load once and are shared)."""

from __future__ import annotations

import json
import threading
from functools import lru_cache

from guard.calibration import SupportCalibration
from guard.config import GuardConfig, ModelsConfig, SupportConfig
from guard.errors import ConfigError
from guard.verify.base import SupportVerifier

_lock = threading.Lock()


def get_verifier(support: SupportConfig, models: ModelsConfig | None = None) -> SupportVerifier:
    """The verifier for ``support.verifier``; ``models`` sets the LLM judge's retries, timeout and fallbacks."""
    models = models or ModelsConfig()
    with _lock:
        return _build(support.verifier, support.cross_encoder_model, support.judge_model, models.model_dump_json(),
                      support.precision == "int8")


def support_threshold(config: GuardConfig, verifier: SupportVerifier | None = None,
                      calibration: SupportCalibration | None = None) -> float:
    """The score below which a claim is unsupported: ``support.threshold`` when set, else the operating point for
    the product's risk level of the calibration in force (``guard.calibration``), else the verifier's."""
    if config.support.threshold is not None:
        return config.support.threshold
    calibrated = calibration.threshold(config.product.risk.value) if calibration is not None else None
    if calibrated is not None:
        return calibrated
    verifier = verifier or get_verifier(config.support, config.models)
    return verifier.threshold(config.product.risk.value)


@lru_cache(maxsize=16)
def _build(kind: str, cross_encoder_model: str | None, judge_model: str | None, models_json: str,
           int8: bool = False) -> SupportVerifier:
    if kind == "support_model":
        from guard.verify.support_model import SupportModelVerifier

        return SupportModelVerifier(int8=int8)
    if kind == "combined":
        from guard.verify.combined import CombinedVerifier

        return CombinedVerifier(int8=int8)
    if kind == "offline":
        from guard.verify.offline import OfflineVerifier

        return OfflineVerifier(int8=int8)
    if kind == "cross_encoder":
        if not cross_encoder_model:
            raise ConfigError("support.verifier is 'cross_encoder' but support.cross_encoder_model is not set")
        from guard.verify.cross_encoder import CrossEncoderVerifier

        return CrossEncoderVerifier(cross_encoder_model)
    if kind == "llm_judge":
        from guard.llm import ModelClient
        from guard.verify.llm_judge import LLMJudgeVerifier

        models = ModelsConfig(**json.loads(models_json))
        return LLMJudgeVerifier(ModelClient(models), judge_model or models.default)
    raise ConfigError(f"unknown support.verifier {kind!r}")
