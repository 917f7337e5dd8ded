"""The grounding layer: numbered sources in the prompt, the retrieval signal, and refusing without a source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guard import Guard, GuardConfig
from guard.kb import KnowledgeBase
from guard.layers.base import Skip
from guard.layers.grounding import REFUSAL, GroundingLayer
from guard.state import RequestState
from tests.kb.conftest import CHUNKING
from tests.support.fake_upstream import Reply

REFUND_QUESTION = "How many business days until the refund is issued?"
OFF_TOPIC = "What is the boiling point of mercury?"


@pytest.fixture
def kb_path(kb_config, tmp_path: Path) -> Path:
    """A private copy of the test knowledge base: the layer keeps each path it opens for the process."""
    copy = tmp_path / "grounding-kb"
    shutil.copytree(kb_config.path, copy)
    return copy


def _config(kb_path: Path, risk: str = "medium", **sections) -> GuardConfig:
    return GuardConfig(product={"risk": risk}, knowledge_base={"path": kb_path, **CHUNKING}, **sections)


async def _ground(config: GuardConfig, messages: list[dict]) -> RequestState:
    state = RequestState(request_id="gr_test", config=config, model="m", messages=messages)
    await GroundingLayer(config).run(state)
    return state


async def test_sources_are_numbered_in_the_prompt_with_an_instruction_to_cite(kb_path):
    question = {"role": "user", "content": REFUND_QUESTION}

    state = await _ground(_config(kb_path), [question])

    assert state.sources[0].id == "refund_policy.md#c1"
    system = state.prompt[0]
    assert system["role"] == "system" and "cite it with its number in square brackets" in system["content"]
    assert "[1] Refund policy > Processing\nOnce the returned item arrives" in system["content"]
    assert f"[{len(state.sources)}] " in system["content"]
    assert state.prompt[1:] == [question]


async def test_sources_carry_title_text_score_and_where_they_come_from(kb_path):
    source = (await _ground(_config(kb_path), [{"role": "user", "content": REFUND_QUESTION}])).sources[0]

    assert source.title == "Refund policy" and source.text.startswith("Once the returned item arrives")
    assert source.metadata["path"].endswith("refund_policy.md")
    assert source.metadata["heading"] == "Refund policy > Processing"
    assert 0 < source.score <= 1


async def test_retrieval_signal_is_the_best_sources_relevance(kb_path):
    state = await _ground(_config(kb_path), [{"role": "user", "content": REFUND_QUESTION}])

    assert state.signals["retrieval"] == max(s.score for s in state.sources)
    assert 0.3 <= state.signals["retrieval"] <= 1


async def test_only_top_k_sources_above_the_floor_are_kept(kb_path):
    config = _config(kb_path, grounding={"top_k": 2, "min_score": 0.35})

    state = await _ground(config, [{"role": "user", "content": "What happens to gift cards and shipping fees?"}])

    assert 1 <= len(state.sources) <= 2
    assert all(s.score >= 0.35 for s in state.sources)


async def test_exact_error_code_is_grounded_in_its_chunk(kb_path):
    state = await _ground(_config(kb_path), [{"role": "user", "content": "Customer got ERR-4012, what now?"}])

    assert state.sources[0].text.startswith("ERR-4012:")
    assert state.signals["retrieval"] == 1.0


async def test_app_system_message_keeps_its_text_and_gains_the_sources(kb_path):
    messages = [{"role": "system", "content": "You are Shop's helpful assistant."},
                {"role": "user", "content": REFUND_QUESTION}]

    state = await _ground(_config(kb_path), messages)

    assert len(state.prompt) == 2
    assert state.prompt[0]["content"].startswith("You are Shop's helpful assistant.\n\nAnswer the user's question")
    assert state.messages == messages  # the app's own messages are not changed


async def test_question_given_as_content_parts_is_grounded(kb_path):
    parts = [{"type": "text", "text": REFUND_QUESTION}]

    state = await _ground(_config(kb_path), [{"role": "user", "content": parts}])

    assert state.sources[0].id == "refund_policy.md#c1"


async def test_no_relevant_source_under_high_risk_refuses(kb_path):
    state = await _ground(_config(kb_path, risk="high"), [{"role": "user", "content": OFF_TOPIC}])

    assert state.refusal == REFUSAL == "I don't have a source for that."
    assert state.signals["retrieval"] == 0.0
    assert state.sources == [] and state.prompt is None


async def test_no_relevant_source_under_low_risk_lets_the_model_answer(kb_path):
    state = await _ground(_config(kb_path, risk="low"), [{"role": "user", "content": OFF_TOPIC}])

    assert state.refusal is None and state.signals["retrieval"] == 0.0 and state.prompt is None


@pytest.mark.parametrize("make_folder", [False, True])
async def test_missing_or_empty_knowledge_base_skips_grounding(tmp_path: Path, make_folder: bool):
    folder = tmp_path / "no-kb"
    if make_folder:
        folder.mkdir()

    with pytest.raises(Skip, match="no knowledge base at knowledge_base.path") as skipped:
        await _ground(_config(folder), [{"role": "user", "content": REFUND_QUESTION}])
    assert str(tmp_path) not in skipped.value.reason  # the reason reaches the app: never a file path


async def test_knowledge_base_with_every_document_removed_skips_grounding(kb_path, docs):
    emptied = KnowledgeBase.open(_config(kb_path).knowledge_base)
    emptied.remove([docs])
    emptied.close()

    with pytest.raises(Skip, match="has no documents"):
        await _ground(_config(kb_path), [{"role": "user", "content": REFUND_QUESTION}])


async def test_disabled_grounding_skips(kb_path):
    with pytest.raises(Skip, match="grounding disabled"):
        await _ground(_config(kb_path, grounding={"enabled": False}), [{"role": "user", "content": REFUND_QUESTION}])


async def test_knowledge_base_is_opened_once_per_process(kb_path, monkeypatch):
    opened = []
    real_open = KnowledgeBase.open
    monkeypatch.setattr(KnowledgeBase, "open",
                        classmethod(lambda cls, settings: opened.append(settings) or real_open(settings)))
    config = _config(kb_path)
    layer = GroundingLayer(config)

    for n, question in enumerate(["refunds", "shipping times", "warranty"]):
        await layer.run(RequestState(request_id=f"gr_{n}", config=config, model="m",
                                     messages=[{"role": "user", "content": question}]))

    assert len(opened) == 1


# -- through the whole pipeline ------------------------------------------------------------------

def _pipeline_config(kb_path: Path, risk: str) -> GuardConfig:
    return _config(kb_path, risk=risk, models={"default": "openai/primary-model", "max_attempts": 1, "timeout_s": 10},
                   consistency={"enabled": False})


async def test_model_receives_the_numbered_sources(kb_path, upstream):
    upstream.script["primary-model"] = [Reply(text="Within 5 business days [1].")]
    guard = Guard(_pipeline_config(kb_path, risk="medium"))

    reply = await guard.acomplete([{"role": "user", "content": REFUND_QUESTION}])

    sent = upstream.requests[-1]["messages"]
    assert sent[0]["role"] == "system" and "[1] Refund policy > Processing" in sent[0]["content"]
    assert reply.guard.layers["grounding"].status == "ok"
    assert reply.guard.signals["retrieval"] > 0.3


async def test_no_source_under_high_risk_answers_with_a_refusal_without_calling_the_model(kb_path, upstream):
    guard = Guard(_pipeline_config(kb_path, risk="high"))

    reply = await guard.acomplete([{"role": "user", "content": OFF_TOPIC}])

    assert upstream.requests == []
    assert reply.guard.signals["retrieval"] == 0.0
    assert reply.guard.review.required


async def test_sources_and_their_scores_are_the_same_on_either_backend(any_kb_config, local_kb_config):
    def config(kb) -> GuardConfig:
        return GuardConfig(product={"risk": "medium"}, knowledge_base=kb.model_dump())

    question = [{"role": "user", "content": "Customer got ERR-4012, what now?"}]
    state = await _ground(config(any_kb_config), question)
    local = await _ground(config(local_kb_config), question)

    assert state.sources[0].text.startswith("ERR-4012:") and state.signals["retrieval"] == 1.0
    assert {(s.id, s.score) for s in state.sources} == {(s.id, s.score) for s in local.sources}
