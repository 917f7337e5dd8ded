"""A reviewer works the queue in a real browser, on a draft that came through the proxy.

The proxy runs on loopback with the fake OpenAI upstream; the app asks its
question with the official openai SDK; the reviewer signs in with the admin key,
finds the draft, sees the unsupported sentence highlighted, edits and approves
it; the app then reads the decided answer, and the health page's edit rate moves.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app
from guard.config import KnowledgeBaseConfig
from guard.kb import KnowledgeBase
from guard.store import ReviewItem, open_store, utcnow
from tests.support.fake_upstream import FakeUpstream, Reply, completion_body

ADMIN_KEY, APP_KEY = "console-admin-key-1", "console-app-key-1"
MODEL, JUDGE = "openai/support-model", "openai/judge-model"
POLICY = ("# Refund policy\n\nItems can be returned within 30 days of delivery if they are unused.\n"
          "The refund is issued to the original payment method within 5 business days.\n")
UNSUPPORTED = "Refunds also include a free gift card worth 50 euros."
DRAFT = f"Items can be returned within 30 days of delivery [1]. {UNSUPPORTED}"
FIXED = "Items can be returned within 30 days of delivery [1]. The refund arrives within 5 business days [1]."
QUESTION = "Can items be returned after delivery, and how is the refund paid?"
# Set CONSOLE_SCREENSHOTS=/some/dir to keep screenshots of the queue, an item and the health page.
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


class UpstreamWithJudge(FakeUpstream):
    """The fake upstream, also serving as the LLM judge: it finds every sentence supported but the made-up one."""

    def _answer(self, handler, body) -> None:
        if body.get("model") != JUDGE.partition("/")[2]:
            return super()._answer(handler, body)
        claim = body["messages"][-1]["content"].rpartition("Claim:")[2]
        verdict = {"supported": "gift card" not in claim, "confidence": 0.9}
        payload = json.dumps(completion_body(body["model"], Reply(text=json.dumps(verdict)), 1)).encode()
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


@dataclass
class Proxy:
    url: str
    upstream: FakeUpstream
    database: str

    def ask(self, question: str = QUESTION) -> tuple[str, dict]:
        """One chat completion through the proxy with the official SDK: (request id, guard object)."""
        client = OpenAI(base_url=f"{self.url}/v1", api_key=APP_KEY, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": question}])
        return raw.headers["x-guard-request-id"], raw.parse().model_extra["guard"]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, live_server_factory):
    work = tmp_path_factory.mktemp("console")
    (work / "docs").mkdir()
    (work / "docs" / "refund_policy.md").write_text(POLICY)
    knowledge_base = KnowledgeBase.open(KnowledgeBaseConfig(path=work / "kb"))
    knowledge_base.add([work / "docs"])
    knowledge_base.close()
    upstream = UpstreamWithJudge(script={"support-model": [Reply(text=DRAFT)]})
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("GUARD_")]:
            env.delenv(key)
        env.chdir(work)
        for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL"):
            env.setenv(name, upstream.base_url)
        env.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        config = GuardConfig(
            product={"name": "Lumen support", "risk": "low"},
            models={"default": MODEL, "max_attempts": 1, "timeout_s": 10},
            knowledge_base={"path": str(work / "kb")},
            support={"verifier": "llm_judge", "judge_model": JUDGE},
            telemetry={"database": str(work / "guard.db")},
            review={"tiers": ["low"], "policy": "block"},  # held: the app waits for the reviewer's answer
            streaming={"mode": "buffer"},
            tiers={"high": 0.99, "medium": 0.98},  # whatever the verifier says, these drafts go to a person
            server={"api_keys": [APP_KEY], "admin_keys": [ADMIN_KEY]},
        )
        server = live_server_factory(create_app(Guard(config), config))
        yield Proxy(server.url, upstream, str(work / "guard.db"))
    upstream.close()


def sign_in(page, proxy: Proxy, key: str = ADMIN_KEY, name: str = "Ana") -> None:
    page.goto(f"{proxy.url}/console/")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Admin key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def edit_rate(page, proxy: Proxy) -> str:
    page.goto(f"{proxy.url}/console/health?window=1d")
    row = page.locator(".guard-report table").first.locator("tr", has_text="Edit rate")
    return row.locator("td.num").first.inner_text()


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"console-{name}.png"), full_page=True)


def test_a_reviewer_edits_a_draft_queued_through_the_proxy_and_the_app_gets_the_decided_answer(page, proxy):
    request_id, verdict = proxy.ask()
    assert verdict["tier"] == "low" and verdict["review"]["status"] == "pending"
    sign_in(page, proxy)
    rate_before = edit_rate(page, proxy)

    page.goto(f"{proxy.url}/console/")
    assert page.get_by_role("heading", name="Review queue").is_visible()
    shot(page, "queue")
    page.get_by_role("link", name=QUESTION).first.click()

    highlighted = page.locator(".draft mark.unsupported")
    assert UNSUPPORTED in highlighted.inner_text()
    assert re.search(r"unsupported · 0\.\d\d", highlighted.inner_text())
    assert page.get_by_role("link", name=re.compile("citation 1")).first.get_attribute("href") == "#source-1"
    assert "30 days of delivery" in page.locator("#source-1 mark.cited").inner_text()
    assert page.locator(".meta .tier").inner_text().strip() == "Low confidence"
    shot(page, "item")

    page.get_by_label("Edit the answer").fill(FIXED)
    page.get_by_role("button", name="Save edit and approve").click()
    assert "edited" in page.get_by_role("status").inner_text()

    stored = httpx.get(f"{proxy.url}/v1/requests/{request_id}", headers={"authorization": f"Bearer {APP_KEY}"})
    assert stored.status_code == 200
    assert stored.json()["answer"] == FIXED and stored.json()["status"] == "edited"
    rate_after = edit_rate(page, proxy)
    assert rate_before != rate_after == "100.0%"
    shot(page, "health")


def test_a_second_reviewer_sees_who_decided_first(browser, page, proxy):
    proxy.ask("Can I return a lamp I bought as a gift?")
    sign_in(page, proxy, name="Ana")
    page.get_by_role("link", name="Can I return a lamp I bought as a gift?").click()
    other = browser.new_context().new_page()
    sign_in(other, proxy, name="Ben")
    other.goto(page.url)

    page.once("dialog", lambda dialog: dialog.accept())  # "a" on a held answer asks before it delivers
    page.keyboard.press("a")
    page.get_by_role("status").wait_for()
    other.get_by_label("Reason for rejecting").fill("Made-up gift card.")
    other.get_by_role("button", name="Reject").click()

    assert re.search(r"already decided by Ana \(sha256-[0-9a-f]{8}\): approved", other.get_by_role("alert").inner_text())
    other.context.close()


def test_a_keypress_alone_never_delivers_a_held_answer(page, proxy):
    proxy.ask("Can I return a lamp after two months?")
    sign_in(page, proxy)
    page.get_by_role("link", name="Can I return a lamp after two months?").click()
    asked: list[str] = []

    def decline(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.wait_for_load_state("load")  # the shortcuts are bound once the page's script has run
    page.once("dialog", decline)
    page.keyboard.press("a")

    assert asked and "send it to the user" in asked[0]
    page.reload()
    assert page.get_by_role("button", name="Approve draft as is").is_visible()  # still pending


def test_the_queue_counts_items_per_tier_and_filters_by_tier(page, proxy):
    proxy.ask("Is the lamp dimmable?")
    sign_in(page, proxy)
    low = page.locator(".counts li", has_text="Low confidence").locator(".count")
    assert int(low.inner_text()) >= 1
    assert page.get_by_role("link", name="Is the lamp dimmable?").is_visible()

    page.get_by_label("Tier", exact=True).select_option("high")
    page.get_by_role("button", name="Apply filters").click()

    assert "No pending item matches these filters." in page.locator(".empty").inner_text()


def test_a_wrong_admin_key_is_refused(page, proxy):
    sign_in(page, proxy, key="not-the-admin-key")

    assert "not an admin key" in page.get_by_role("alert").inner_text()
    assert page.context.cookies() == []
    page.goto(f"{proxy.url}/console/health")
    assert page.get_by_role("heading", name="Sign in to the review console").is_visible()


def test_an_app_key_does_not_open_the_console(page, proxy):
    sign_in(page, proxy, key=APP_KEY)

    assert "App API keys do not open the console" in page.get_by_role("alert").inner_text()
    assert page.context.cookies() == []


def test_the_session_cookie_is_http_only_secure_and_same_site_strict(page, proxy):
    sign_in(page, proxy)

    (cookie,) = page.context.cookies()
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Strict")


def test_signing_out_closes_the_console(page, proxy):
    sign_in(page, proxy)

    page.get_by_role("button", name="Sign out").click()

    assert page.context.cookies() == []
    page.goto(f"{proxy.url}/console")
    assert page.get_by_role("heading", name="Sign in to the review console").is_visible()


def test_a_decision_without_the_form_token_is_refused(page, proxy):
    proxy.ask("Does the lamp come with a warranty?")
    sign_in(page, proxy)
    page.get_by_role("link", name="Does the lamp come with a warranty?").click()
    review_url = page.url

    forged = page.request.post(review_url, form={"action": "approve", "csrf": "forged"})

    assert forged.status == 403
    page.goto(review_url)
    assert page.get_by_role("button", name="Approve draft as is").is_visible()


def test_an_audit_sample_is_marked_in_the_queue_and_on_its_page(page, proxy):
    store = open_store(proxy.database)
    store.submit_review(ReviewItem(id="rv_audit_1", request_id="gr_audit_1", created_at=utcnow(), policy="flag",
                                   tier="medium", question="Is the warranty two years?", draft="Two years.", audit=True))
    store.close()
    sign_in(page, proxy)

    row = page.locator("tr", has_text="Is the warranty two years?")
    assert "Audit sample" in row.inner_text()
    row.get_by_role("link").click()
    assert "Audit sample: an unflagged answer checked at random" in page.locator("main").inner_text()
