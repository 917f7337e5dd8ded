"""Reading source files: which files are found, and what each format becomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard.errors import KnowledgeBaseError
from guard.kb.documents import discover, parse
from guard.kb.htmltext import html_to_markdown


def test_folders_are_walked_recursively_for_supported_files(tmp_path: Path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.md", "a/b/two.txt", "a/b/three.html", "a/four.jsonl"):
        (tmp_path / name).write_text("x")

    found = discover([tmp_path / "a"])

    assert sorted(p.name for p in found.files) == ["four.jsonl", "one.md", "three.html", "two.txt"]
    assert found.folders == [(tmp_path / "a").resolve()]


def test_hidden_entries_are_left_out_and_unsupported_types_reported(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.md").write_text("x")
    (tmp_path / ".draft.md").write_text("x")
    (tmp_path / "manual.pdf").write_bytes(b"%PDF")
    (tmp_path / "page.md").write_text("x")

    found = discover([tmp_path])

    assert [p.name for p in found.files] == ["page.md"]
    assert [p.name for p in found.skipped] == ["manual.pdf"]


def test_missing_path_is_a_clear_error(tmp_path: Path):
    with pytest.raises(KnowledgeBaseError, match="nope.md: no such file or folder"):
        discover([tmp_path / "nope.md"])


def test_unsupported_file_named_explicitly_is_a_clear_error(tmp_path: Path):
    (tmp_path / "manual.pdf").write_bytes(b"%PDF")

    with pytest.raises(KnowledgeBaseError, match=r"unsupported file type '\.pdf'"):
        discover([tmp_path / "manual.pdf"])


@pytest.mark.parametrize(("text", "title"), [
    ("---\ntitle: From front matter\n---\n# Heading one\n\nBody.\n", "From front matter"),
    ("Intro.\n\n# Heading one\n\nBody.\n", "Heading one"),
    ("Just text, no heading.\n", "Returns and exchanges"),
])
def test_markdown_title_is_front_matter_then_first_h1_then_file_name(tmp_path: Path, text: str, title: str):
    path = tmp_path / "returns_and-exchanges.md"

    assert parse(path, text.encode())[0].title == title


def test_front_matter_becomes_metadata_and_offsets_skip_it(tmp_path: Path):
    text = "---\ntitle: Policy\nowner: legal\n---\n# Policy\n\nBody.\n"

    doc = parse(tmp_path / "policy.md", text.encode())[0]

    assert doc.metadata == {"owner": "legal"}
    assert text[doc.offset:] == doc.text and doc.text.startswith("# Policy")


def test_html_keeps_headings_and_drops_scripts_navigation_and_footer():
    title, text = html_to_markdown(
        "<html><head><title>Help</title><style>p {}</style></head><body><nav>Menu</nav>"
        "<h1>Help centre</h1><p>Contact   us <b>any</b> time.</p><h2>Hours</h2><ul><li>Mon</li><li>Tue</li></ul>"
        "<script>track()</script><footer>(c) Shop</footer></body></html>")

    assert title == "Help"
    assert text == "# Help centre\n\nContact us any time.\n\n## Hours\n\n- Mon\n- Tue"


def test_html_page_title_names_the_document(tmp_path: Path):
    doc = parse(tmp_path / "page.html", b"<title>Shipping</title><h1>Ship</h1><p>Fast.</p>")[0]

    assert doc.title == "Shipping" and doc.markdown


def test_each_jsonl_line_is_a_document_with_its_metadata(tmp_path: Path):
    lines = [{"id": "a", "title": "First", "text": "One.", "metadata": {"lang": "en"}, "team": "ops"},
             {"text": "Two."}]

    docs = parse(tmp_path / "faq.jsonl", "\n".join(json.dumps(x) for x in lines).encode())

    assert [(d.part, d.title, d.text) for d in docs] == [("a", "First", "One."), ("2", "Faq 2", "Two.")]
    assert docs[0].metadata == {"lang": "en", "team": "ops"}


@pytest.mark.parametrize(("content", "message"), [
    ('{"title": "x"}', r"faq.jsonl:1: each line must be an object with a string 'text'"),
    ("not json", r"faq.jsonl:1: not valid JSON"),
    ('{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}', r"faq.jsonl:2: duplicate id '1'"),
])
def test_bad_jsonl_line_is_named_in_the_error(tmp_path: Path, content: str, message: str):
    with pytest.raises(KnowledgeBaseError, match=message):
        parse(tmp_path / "faq.jsonl", content.encode())


def test_non_utf8_file_is_rejected_with_its_name(tmp_path: Path):
    with pytest.raises(KnowledgeBaseError, match=r"latin.txt: not UTF-8 text"):
        parse(tmp_path / "latin.txt", "café".encode("latin-1"))
