"""guard: quality and guardrail middleware for LLM applications.

    from guard import Client
    client = Client()                      # reads ./guard.yaml and GUARD_* env when present
    reply = client.chat.completions.create(model="local/smollm2", messages=[...])
    reply.choices[0].message.content, reply.guard.tier, reply.guard.confidence
"""

from guard.client import AsyncClient, Client
from guard.config import GuardConfig, RiskLevel, load_config
from guard.errors import ConfigError, GuardError, ModelCallError
from guard.metadata import GuardMetadata
from guard.pipeline import Guard
from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk
from guard.state import Source

__all__ = [
    "AsyncClient",
    "Client",
    "ConfigError",
    "Guard",
    "GuardConfig",
    "GuardError",
    "GuardMetadata",
    "GuardedChatCompletion",
    "GuardedChatCompletionChunk",
    "ModelCallError",
    "RiskLevel",
    "Source",
    "load_config",
]
