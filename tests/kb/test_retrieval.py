"""The pieces of hybrid retrieval: identifiers, rank fusion and the lexical query."""

from __future__ import annotations

import numpy as np

from guard.kb import lexical
from guard.kb.lexical import query_phrases
from guard.kb.retrieval import fuse, identifier_share, identifiers
from guard.kb.store import Chunk, Store


def test_identifiers_are_words_with_a_digit_and_a_letter_or_separator():
    assert identifiers("Is ERR-4012 from 2024 about SKU88, clause 4.2 or v2?") == ["ERR-4012", "SKU88", "4.2"]


def test_identifier_share_counts_whole_words_only_and_ignores_case():
    text = "Error err-4012 means the card was declined; see ERR-40123 for limits."

    assert identifier_share(["ERR-4012"], text) == 1.0
    assert identifier_share(["ERR-401", "ERR-4012"], text) == 0.5
    assert identifier_share([], text) == 0.0


def test_fusion_ranks_a_chunk_both_sides_found_above_either_sides_first():
    scores = fuse([1, 2, 3], [4, 2, 5])

    assert max(scores, key=scores.get) == 2
    assert scores[1] == scores[4]


def test_lexical_query_puts_codes_first_as_phrases_and_drops_stopwords():
    assert query_phrases("What does the order ERR-4012 mean?") == ['"err 4012"', '"order"', '"mean"']


def test_lexical_query_of_only_stopwords_searches_nothing():
    assert query_phrases("what is it?") == []
    assert query_phrases('"" -- ()') == []


def test_words_too_common_to_afford_are_left_out_of_the_lexical_query(tmp_path, monkeypatch):
    store = Store(tmp_path / "chunks.sqlite3")
    texts = [f"The order shipped in box {n}." for n in range(6)] + ["Order ERR-4012: the card was declined."]
    chunks = [Chunk(id=f"notes.md#c{n}", title="Notes", heading="", text=t, path="/notes.md", start=0, end=len(t))
              for n, t in enumerate(texts)]
    with store.write() as writer:
        file_id = writer.save_file("/notes.md", "notes.md", "hash", "test", 0, 0.0)
        writer.insert_chunks({"/notes.md": file_id}, chunks, np.zeros((len(chunks), 0), dtype=np.float32))
    monkeypatch.setattr(lexical, "SCORED_CHUNKS_BUDGET", 3)

    assert [row for row, _ in lexical.search(store, "order ERR-4012", 10)] == [7]  # "order" matches all 7
    assert lexical.search(store, "order", 10) == []
    store.close()
