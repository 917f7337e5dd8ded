"""``POST /v1/check``: guard's verdict on an answer made elsewhere, recorded and reviewed like a served one."""

from __future__ import annotations

import uuid

import httpx
import pytest

from guard.config import KnowledgeBaseConfig, key_digest
from guard.kb import KnowledgeBase

APP_KEY = "sk-check-app-0000001"
SOURCES = [{"id": "refund_policy.md", "title": "Refund policy",
            "text": "Customers can request a refund within 30 days of purchase."}]
SUPPORTED = "You can request a refund within 30 days of purchase [1]."
INVENTED = "Refunds are paid in gold bars by courier [1]."
VERIFYING = {"support": {"enabled": True}, "citations": {"enabled": True}}


def check(proxy, headers=None, **body) -> httpx.Response:
    return httpx.post(proxy.url + "/v1/check", json=body, headers=headers, timeout=60)


def test_a_supported_answer_gets_the_guard_object_with_its_citations(start_proxy):
    proxy = start_proxy(**VERIFYING)

    reply = check(proxy, response=SUPPORTED, sources=SOURCES, question="How long do I have for a refund?")

    verdict = reply.json()
    assert reply.status_code == 200
    assert verdict["layers"]["support"]["status"] == "ok"
    assert verdict["unsupported"] == []
    assert verdict["citations"][0]["source_id"] == "refund_policy.md"
    assert reply.headers["x-guard-request-id"] == verdict["request_id"]


def test_an_invented_claim_is_flagged_unsupported(start_proxy):
    proxy = start_proxy(**VERIFYING)

    verdict = check(proxy, response=INVENTED, sources=["Customers can request a refund within 30 days."]).json()

    assert verdict["unsupported"]
    assert verdict["tier"] == "low"


def test_the_check_is_recorded_like_an_answer(proxy):
    verdict = check(proxy, response=SUPPORTED, sources=SOURCES, question="How long for a refund?").json()
    proxy.guard.writer.flush(timeout=5)

    record = proxy.guard.store.get_request(verdict["request_id"])

    assert (record.question, record.answer) == ("How long for a refund?", SUPPORTED)


def test_a_low_tier_check_is_routed_to_review(start_proxy):
    proxy = start_proxy(review={"enabled": True, "policy": "flag", "tiers": ["low"]})

    verdict = check(proxy, response=INVENTED, sources=SOURCES).json()

    assert verdict["review"]["required"] is True
    assert proxy.guard.review_for(verdict["request_id"]).draft == INVENTED


def test_the_check_needs_an_app_key_and_counts_against_its_limits(start_proxy):
    proxy = start_proxy(server={"keys": [{"name": "batch", "digest": key_digest(APP_KEY), "requests_per_minute": 1}]})
    auth = {"authorization": f"Bearer {APP_KEY}"}

    assert check(proxy, response=SUPPORTED, sources=SOURCES).status_code == 401
    assert check(proxy, auth, response=SUPPORTED, sources=SOURCES).status_code == 200
    assert check(proxy, auth, response=SUPPORTED, sources=SOURCES).status_code == 429


def test_a_configured_knowledge_base_supplies_the_sources(start_proxy, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "refunds.md").write_text("# Refunds\n\nCustomers can request a refund within 30 days of purchase.\n")
    KnowledgeBase.open(KnowledgeBaseConfig(path=tmp_path / "faq")).add([docs])
    proxy = start_proxy(server={"knowledge_bases": {"faq": str(tmp_path / "faq")}}, **VERIFYING)

    verdict = check(proxy, response=SUPPORTED, knowledge_base="faq", question="How long do I have for a refund?").json()

    assert verdict["citations"][0]["source_id"].startswith("refunds.md")
    assert verdict["layers"]["support"]["status"] == "ok"


def test_a_knowledge_base_named_in_postgres_supplies_the_sources(start_proxy, pgvector_url, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "refunds.md").write_text("# Refunds\n\nCustomers can request a refund within 30 days of purchase.\n")
    shared = {"backend": "postgres", "database": pgvector_url}
    faq = f"faq-{uuid.uuid4().hex[:8]}"
    KnowledgeBase.open(KnowledgeBaseConfig(**shared, name=faq)).add([docs])
    proxy = start_proxy(knowledge_base={**shared, "name": f"main-{uuid.uuid4().hex[:8]}"},
                        server={"knowledge_bases": {"faq": faq}}, **VERIFYING)

    verdict = check(proxy, response=SUPPORTED, knowledge_base="faq", question="How long do I have for a refund?").json()

    assert verdict["citations"][0]["source_id"].startswith("refunds.md")


@pytest.mark.parametrize("body, param", [
    ({"sources": SOURCES}, "response"),
    ({"response": SUPPORTED}, "sources"),
    ({"response": SUPPORTED, "sources": SOURCES, "knowledge_base": "faq"}, "sources"),
    ({"response": SUPPORTED, "sources": [{"title": "no text"}]}, "sources.0"),
    ({"response": SUPPORTED, "knowledge_base": "nowhere", "question": "q"}, "knowledge_base"),
])
def test_bad_input_is_a_400_in_openai_error_shape(proxy, body, param):
    reply = check(proxy, **body)

    assert reply.status_code == 400
    assert reply.json()["error"]["param"].startswith(param)
