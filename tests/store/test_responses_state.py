"""Responses API state in the store: kept per key, purged with the records."""

from __future__ import annotations

from datetime import timedelta

from guard.responses_api.state import load_conversation, save_conversation
from guard.store import open_store, utcnow

TURN = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]


def test_a_saved_conversation_is_read_back_by_its_key_only(tmp_path):
    store = open_store(str(tmp_path / "guard.db"))
    save_conversation(store, "resp_1", TURN, "app")

    assert load_conversation(store, "resp_1", "app") == TURN
    assert load_conversation(store, "resp_1", "other-app") is None
    assert load_conversation(store, "resp_1", None) is None


def test_conversations_older_than_the_records_retention_are_purged(tmp_path):
    store = open_store(str(tmp_path / "guard.db"))
    save_conversation(store, "resp_1", TURN, None)

    store.purge_records(utcnow() + timedelta(seconds=1))

    assert load_conversation(store, "resp_1", None) is None
