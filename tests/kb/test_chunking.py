"""Chunking follows headings and sentence boundaries, within the configured size and overlap."""

from __future__ import annotations

import re

from guard.kb.chunking import chunk_text

SENTENCES = " ".join(f"Sentence number {n} says something short." for n in range(1, 21))
DOC = f"""# Guide

Intro paragraph.

## Setup

{SENTENCES}

## Usage

Run it. Then stop it.
"""


def test_chunks_follow_the_heading_path():
    pieces = chunk_text(DOC, size=200, overlap=50, markdown=True)

    assert pieces[0].heading == "Guide" and pieces[0].text == "Intro paragraph."
    assert {p.heading for p in pieces[1:-1]} == {"Guide > Setup"}
    assert pieces[-1].heading == "Guide > Usage" and pieces[-1].text == "Run it. Then stop it."


def test_chunk_offsets_index_the_document_text():
    for piece in chunk_text(DOC, size=200, overlap=50, markdown=True):
        assert DOC[piece.start:piece.end] == piece.text


def test_chunks_stay_within_size_and_end_on_sentence_boundaries():
    pieces = [p for p in chunk_text(DOC, size=200, overlap=50, markdown=True) if p.heading == "Guide > Setup"]

    assert len(pieces) > 3
    for piece in pieces:
        assert len(piece.text) <= 200
        assert piece.text.startswith("Sentence number") and piece.text.endswith("short.")


def test_consecutive_chunks_share_whole_sentences_up_to_the_overlap():
    pieces = [p for p in chunk_text(DOC, size=200, overlap=50, markdown=True) if p.heading == "Guide > Setup"]

    for before, after in zip(pieces, pieces[1:]):
        shared = DOC[after.start:before.end]
        assert 0 < len(shared) <= 50
        assert re.fullmatch(r"Sentence number \d+ says something short\.", shared)


def test_no_overlap_when_overlap_is_zero():
    pieces = chunk_text(SENTENCES, size=200, overlap=0, markdown=False)

    assert all(after.start > before.end for before, after in zip(pieces, pieces[1:]))


def test_heading_inside_a_code_fence_is_not_a_section():
    text = "# Setup\n\nRun this:\n\n```sh\n# install it\npip install guard\n```\n"

    pieces = chunk_text(text, size=400, overlap=0, markdown=True)

    assert [p.heading for p in pieces] == ["Setup"]
    assert "# install it" in pieces[0].text


def test_underlined_headings_start_sections():
    text = "Guide\n=====\n\nIntro.\n\nInstall\n-------\n\nSteps.\n"

    assert [(p.heading, p.text) for p in chunk_text(text, size=400, overlap=0, markdown=True)] == [
        ("Guide", "Intro."), ("Guide > Install", "Steps.")]


def test_plain_text_hash_lines_are_not_headings():
    pieces = chunk_text("# not a heading in a .txt file\nBody.\n", size=400, overlap=0, markdown=False)

    assert [p.heading for p in pieces] == [""]


def test_abbreviations_do_not_end_a_sentence():
    text = "Bring ID, e.g. A passport or licence. Fees apply."

    pieces = chunk_text(text, size=100, overlap=0, markdown=False)

    assert pieces[0].text == text  # one chunk, and the units inside it are whole
    assert [p.text for p in chunk_text(text, size=40, overlap=0, markdown=False)] == [
        "Bring ID, e.g. A passport or licence.", "Fees apply."]


def test_sentence_longer_than_size_is_cut_at_spaces():
    text = " ".join(["word"] * 100)

    pieces = chunk_text(text, size=120, overlap=20, markdown=False)

    assert all(len(p.text) <= 120 for p in pieces)
    assert all(p.text.startswith("word") and p.text.endswith("word") for p in pieces)
    assert "".join(p.text + " " for p in pieces).split() == text.split()


def test_list_items_are_units():
    text = "Steps:\n- open the app\n- press reset\n- confirm"

    pieces = chunk_text(text, size=30, overlap=0, markdown=True)

    assert [p.text for p in pieces] == ["Steps:\n- open the app", "- press reset\n- confirm"]
