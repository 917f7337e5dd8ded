"""BM25 lexical search, through SQLite's FTS5 index beside the chunk metadata.

FTS5 ranks with Okapi BM25 (k1=1.2, b=0.75) and lives in the same database file
as the chunks, kept in step by triggers, so the lexical index commits and rolls
back with them in one transaction: an interrupted ingest cannot leave it out of
step with the metadata, and adding or removing a file touches only its rows.

Questions become an OR of their rarer words (see ``SCORED_CHUNKS_BUDGET``). A
word that the tokenizer splits, such as ``ERR-4012`` or ``SKU-88-B``, is
searched as a phrase, so only its exact sequence of parts matches; that is what
rescues identifiers dense search blurs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from guard.verify.text import STOPWORDS

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, heading, text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, title, heading, text) VALUES (new.id, new.title, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, title, heading, text)
        VALUES ('delete', old.id, old.title, old.heading, old.text);
END;
"""

# Column weights for bm25(): title, heading, text. Titles repeat across a document's chunks; the text decides.
_WEIGHTS = (0.5, 1.0, 1.0)
# FTS5 scores every chunk a query matches (~10 µs each), so a common word would cost seconds at a million
# chunks. Words join the query rarest first while the chunks to score stay within this budget; words that
# common carry little BM25 weight anyway, and the dense side covers them.
SCORED_CHUNKS_BUDGET = 5_000
_MAX_PHRASES = 16  # a pasted page as the question must not become a query over every word
_WORD = re.compile(r"[^\s\"'`()\[\]{}<>,;:?!]+")
_TOKEN = re.compile(r"[^\W_]+")


class Reader(Protocol):
    def read(self, sql: str, params: tuple = ()) -> list[tuple]: ...


def query_phrases(query: str) -> list[str]:
    """The question's words as FTS5 phrases, identifiers first, stopwords and repeats left out.

    A word the tokenizer splits (``ERR-4012``) becomes one phrase, so only its exact sequence of parts matches.
    """
    phrases: list[str] = []
    for word in _WORD.findall(query):
        tokens = _TOKEN.findall(word.lower())
        if not tokens or (len(tokens) == 1 and tokens[0] in STOPWORDS):
            continue
        phrase = '"' + " ".join(tokens) + '"'
        if phrase not in phrases:
            phrases.append(phrase)
    phrases.sort(key=lambda p: not any(c.isdigit() for c in p))  # stable: identifiers first, then question order
    return phrases[:_MAX_PHRASES]


def search(reader: Reader, query: str, limit: int) -> list[tuple[int, float]]:
    """(chunk row id, BM25 score) best first; higher is better."""
    chosen = affordable(query_phrases(query), lambda phrase, cap: reader.read(
        "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)", (phrase, cap))[0][0])
    if not chosen:
        return []
    rows = reader.read(
        "SELECT rowid, bm25(chunks_fts, ?, ?, ?) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
        (*_WEIGHTS, " OR ".join(chosen), limit),
    )
    return [(int(rowid), -float(rank)) for rowid, rank in rows]


def affordable(phrases: list[str], matches: Callable[[str, int], int]) -> list[str]:
    """The rarest phrases whose matches, together, stay within the scoring budget.

    ``matches(phrase, cap)`` counts the chunks a phrase matches, stopping past ``cap``: so counting costs
    little even for common words. Shared by every backend's full-text search.
    """
    counted = []
    for phrase in phrases:
        found = matches(phrase, SCORED_CHUNKS_BUDGET + 1)
        if found:
            counted.append((found, phrase))
    chosen, budget = [], SCORED_CHUNKS_BUDGET
    for found, phrase in sorted(counted):
        if found > budget:
            break
        chosen.append(phrase)
        budget -= found
    return chosen
