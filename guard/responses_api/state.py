"""Conversation state for ``previous_response_id``, kept in the store so every worker and host can continue it.

Each stored response keeps the whole conversation up to and including its own
output as chat messages (without ``instructions``, which OpenAI does not carry
over): a next turn is one read, whatever the chain's length. Only the API key
that created a response continues it (``guard.attribution``); the rows follow
the records' retention (``telemetry.retention_days``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from guard.store import Store, utcnow
from guard.store.schema import responses


def save_conversation(store: Store, response_id: str, messages: list[dict[str, Any]], key_name: str | None) -> None:
    with store.transaction(write=True) as conn:
        conn.execute(insert(responses).values(id=response_id, created_at=utcnow(), messages=messages,
                                              key_name=key_name))


def load_conversation(store: Store, response_id: str, key_name: str | None) -> list[dict[str, Any]] | None:
    """The stored conversation, or None when no response with this id was stored by this key."""
    query = select(responses.c.messages).where(responses.c.id == response_id, responses.c.key_name.is_(None)
                                               if key_name is None else responses.c.key_name == key_name)
    with store.transaction() as conn:
        row = conn.execute(query).first()
    return None if row is None else list(row[0])
