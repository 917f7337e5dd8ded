"""Per-request overrides only tighten: a client can ask for more checking, never for less than the server serves."""

from __future__ import annotations

import openai
import pytest

from guard.adapters.server.overrides import derive_request_config
from guard.adapters.server.schemas import GuardOverrides
from tests.server.conftest import MODEL, server_config
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]


def test_a_lower_risk_keeps_a_held_answer_held(start_proxy, upstream):
    proxy = start_proxy(product={"risk": "high"}, review={"enabled": True, "policy": "block"},
                        server={"allow_overrides": ["risk"]})
    upstream.script["fake-model"] = [Reply(text="Ninety days.")]

    reply = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION,
                                                  extra_body={"guard": {"risk": "low"}})

    assert reply.model_extra["guard"]["review"]["policy"] == "block"
    assert reply.choices[0].finish_reason == "content_filter"
    assert reply.choices[0].message.content != "Ninety days."


def test_a_review_policy_override_cannot_lower_block_to_flag(start_proxy):
    proxy = start_proxy(review={"enabled": True, "policy": "block"}, server={"allow_overrides": ["review_policy"]})

    with pytest.raises(openai.BadRequestError) as refused:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION,
                                               extra_body={"guard": {"review_policy": "flag"}})

    assert refused.value.body["param"] == "guard.review_policy"
    assert refused.value.body["code"] == "override_not_allowed"


def test_a_samples_override_cannot_switch_off_self_consistency_the_server_runs(start_proxy):
    proxy = start_proxy(consistency={"enabled": True, "samples": 3}, server={"allow_overrides": ["samples"]})

    with pytest.raises(openai.BadRequestError) as refused:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION,
                                               extra_body={"guard": {"samples": 1}})

    assert refused.value.body["param"] == "guard.samples"


def test_a_lower_risk_keeps_what_the_served_risk_level_turned_on():
    served = server_config(product={"risk": "high"}, citations={"enabled": True})
    assert served.streaming.mode == "buffer" and served.review.policy == "block"

    variant = derive_request_config(served, GuardOverrides(risk="low"))

    assert variant.product.risk == "low"
    assert (variant.review.policy, variant.streaming.mode) == ("block", "buffer")
    assert variant.citations.required is True and variant.grounding.refuse_without_source is True


def test_a_buffered_stream_stays_buffered_under_a_lower_risk():
    served = server_config(product={"risk": "high"}, review={"policy": "flag"})

    variant = derive_request_config(served, GuardOverrides(risk="low"))

    assert served.streaming.mode == "buffer" and variant.streaming.mode == "buffer"


def test_a_higher_risk_rederives_only_what_the_operator_left_to_the_risk_level():
    served = server_config(review={"policy": "flag"})  # medium risk; consistency set off explicitly, policy flag

    variant = derive_request_config(served, GuardOverrides(risk="high"))

    assert variant.citations.required is True and variant.streaming.mode == "buffer"  # left to the risk level
    assert variant.consistency.enabled is False and variant.review.policy == "flag"  # the operator's own choice


def test_a_higher_risk_tightens_a_server_that_left_everything_to_the_risk_level():
    served = server_config(consistency={"enabled": None})

    variant = derive_request_config(served, GuardOverrides(risk="critical"))

    assert variant.consistency.enabled is True and variant.review.policy == "block"
