"""Knowledge base fixtures: a few small support documents and a knowledge base built from them.

The embedder is the real packaged MiniLM; ``get_embedder`` keeps one instance per
process, so it loads once for the whole session.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from guard.config import KnowledgeBaseConfig
from guard.kb import KnowledgeBase

REFUND_POLICY = """---
title: Refund policy
audience: customers
---
# Refund policy

## Eligibility

Items can be returned within 30 days of delivery if they are unused and in their original packaging.
Gift cards and downloadable software cannot be returned.

## Processing

Once the returned item arrives at our warehouse, the refund is issued to the original payment method
within 5 business days. Shipping fees are not refunded.
"""

# Many near-identical codes: dense search cannot tell them apart, BM25 on the exact code can.
ERROR_DESCRIPTIONS = {
    4001: "The payment session expired before the customer confirmed it.",
    4003: "The billing address does not match the card.",
    4007: "The payment amount exceeds the single transaction limit.",
    4009: "Too many payment attempts were made in one hour.",
    4012: "The card issuer declined the charge; the customer should call their bank.",
    4015: "The currency is not supported for this merchant.",
    4018: "The security code entered was wrong.",
    4021: "The payment provider timed out.",
}
ERROR_CODES = "# Payment error codes\n\n" + "\n".join(
    f"## ERR-{code}\n\nERR-{code}: {text}\n" for code, text in ERROR_DESCRIPTIONS.items())

SHIPPING = """<html><head><title>Shipping times</title><script>var tracking = 1;</script></head>
<body><nav>Home | Shop | Help</nav>
<h1>Shipping times</h1>
<p>Standard shipping takes 3 to 5 business days within the country.</p>
<h2>Express</h2><p>Express orders placed before noon ship the same day.</p>
<footer>Copyright Example Shop</footer></body></html>
"""

FAQ = [
    {"id": "password-reset", "title": "Resetting a password",
     "text": "To reset your password, open Settings, choose Security and press Reset password.",
     "metadata": {"product": "app"}},
    {"id": "data-export", "title": "Exporting data",
     "text": "Account owners can export all data as a ZIP archive from the Privacy page.", "team": "support"},
]

CHUNKING = {"chunk_size": 300, "chunk_overlap": 60}
BACKENDS = ["local", "postgres"]

WARRANTY = "All devices carry a two year warranty covering manufacturing defects. Water damage is not covered.\n"


def write_docs(folder: Path) -> None:
    """Support documents in every supported format, one of them in a subfolder."""
    (folder / "payments").mkdir(parents=True)
    (folder / "refund_policy.md").write_text(REFUND_POLICY)
    (folder / "payments" / "errors.md").write_text(ERROR_CODES)
    (folder / "shipping.html").write_text(SHIPPING)
    (folder / "faq.jsonl").write_text("\n".join(json.dumps(r) for r in FAQ) + "\n")
    (folder / "warranty.txt").write_text(WARRANTY)


@pytest.fixture(scope="session")
def _workspace(tmp_path_factory) -> tuple[Path, Path]:
    """(where tests find docs/ and kb/, a pristine copy of both).

    The documents are ingested once per session; each test gets a fresh copy
    of the result at the same absolute paths, which the knowledge base records.
    """
    work, pristine = tmp_path_factory.mktemp("kb-work"), tmp_path_factory.mktemp("kb-pristine")
    write_docs(work / "docs")
    built = KnowledgeBase.open(KnowledgeBaseConfig(path=work / "kb", **CHUNKING))
    built.add([work / "docs"])
    built.close()
    for name in ("docs", "kb"):
        shutil.copytree(work / name, pristine / name)
    return work, pristine


@pytest.fixture
def docs(_workspace) -> Path:
    work, pristine = _workspace
    for name in ("docs", "kb"):
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(pristine / name, work / name)
    return work / "docs"


@pytest.fixture
def local_kb_config(docs: Path) -> KnowledgeBaseConfig:
    return KnowledgeBaseConfig(path=docs.parent / "kb", **CHUNKING)


@pytest.fixture
def kb_config(local_kb_config: KnowledgeBaseConfig) -> KnowledgeBaseConfig:
    """The local backend's; a test module that runs on both backends overrides it with ``any_kb_config``."""
    return local_kb_config


@pytest.fixture(params=BACKENDS)
def any_kb_config(request, local_kb_config: KnowledgeBaseConfig) -> KnowledgeBaseConfig:
    """The knowledge base holding ``docs`` on each backend: PostgreSQL's is a named one of its own in the
    session's pgvector server, filled by copying the local one's vectors (no re-embedding)."""
    if request.param == "local":
        return local_kb_config
    return postgres_copy(local_kb_config, request.getfixturevalue("pgvector_url"))


def postgres_copy(local: KnowledgeBaseConfig, database: str) -> KnowledgeBaseConfig:
    """A new named knowledge base in ``database`` holding ``local``'s documents, copied with their vectors."""
    config = local.model_copy(update={"backend": "postgres", "database": database,
                                      "name": f"test-{uuid.uuid4().hex[:12]}"})
    source, target = KnowledgeBase.open(local), KnowledgeBase.open(config)
    target.copy_from(source)
    source.close()
    target.close()
    return config


@pytest.fixture
def kb(kb_config: KnowledgeBaseConfig):
    """A knowledge base holding ``docs``."""
    base = KnowledgeBase.open(kb_config)
    yield base
    base.close()
