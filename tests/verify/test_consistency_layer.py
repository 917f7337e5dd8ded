import pytest

from guard.layers.base import Skip
from guard.config import load_config
from guard.layers.consistency import ConsistencyLayer

ANSWER = "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris."


@pytest.fixture
def layer(offline_verifier):
    return ConsistencyLayer(load_config(telemetry={"enabled": False}, consistency={"enabled": True}),
                            verifier=offline_verifier)


async def test_identical_samples_are_consistent(layer, make_state):
    state = make_state(ANSWER, samples=[ANSWER] * 3)
    await layer.run(state)
    assert state.signals["consistency"] > 0.8


async def test_contradicting_samples_are_inconsistent(layer, make_state):
    samples = [ANSWER, "The Eiffel Tower is 120 metres tall. It was completed in 1925 in Lyon.",
               "The Eiffel Tower is 540 metres tall. It was completed in 1962 in Brussels."]
    state = make_state(samples[0], samples=samples)
    await layer.run(state)
    assert state.signals["consistency"] < 0.5


async def test_the_answer_is_the_sample_the_others_support_most(layer, make_state):
    odd = "The Eiffel Tower is 120 metres tall. It was completed in 1925 in Lyon."
    state = make_state(odd, samples=[odd, ANSWER, "Completed in 1889 in Paris, the Eiffel Tower is 330 metres tall."])
    await layer.run(state)
    assert state.answer_index in (1, 2) and state.answer == state.samples[state.answer_index]


async def test_an_already_streamed_answer_is_rated_but_never_replaced(layer, make_state):
    odd = "The Eiffel Tower is 120 metres tall. It was completed in 1925 in Lyon."
    state = make_state(odd, samples=[odd, ANSWER, "Completed in 1889 in Paris, the Eiffel Tower is 330 metres tall."])
    state.answer_delivered = True
    await layer.run(state)
    assert state.answer_index == 0 and state.answer == odd
    assert state.signals["consistency"] < 0.5


async def test_a_single_sample_skips(layer, make_state):
    with pytest.raises(Skip, match="samples=1"):
        await layer.run(make_state(ANSWER))


async def test_a_clients_own_choices_are_rated_but_never_replaced(layer, make_state):
    odd = "The Eiffel Tower is 120 metres tall. It was completed in 1925 in Lyon."
    state = make_state(odd, samples=[odd, ANSWER, "Completed in 1889 in Paris, the Eiffel Tower is 330 metres tall."])
    state.params["n"] = 3
    await layer.run(state)
    assert state.answer_index == 0 and state.answer == odd


async def test_token_confidence_describes_the_sample_that_became_the_answer(layer, make_state):
    from guard.layers.token_confidence import TokenConfidenceLayer, token_confidence

    odd = "The Eiffel Tower is 120 metres tall. It was completed in 1925 in Lyon."
    other = "Completed in 1889 in Paris, the Eiffel Tower is 330 metres tall."
    state = make_state(odd, samples=[odd, ANSWER, other])
    unsure, sure, surest = [("120", -3.0), ("Lyon", -2.5)], [("330", -0.1), ("Paris", -0.05)], [("1889", -0.01)]
    state.sample_logprobs = [unsure, sure, surest]
    await layer.run(state)
    await TokenConfidenceLayer().run(state)
    assert state.answer_index != 0
    assert state.signals["token_confidence"] == token_confidence(state.sample_logprobs[state.answer_index])


async def test_consistency_turned_off_skips_even_with_several_samples(offline_verifier, make_state):
    off = load_config(telemetry={"enabled": False}, consistency={"enabled": False})
    with pytest.raises(Skip, match="disabled"):
        await ConsistencyLayer(off, verifier=offline_verifier).run(make_state(ANSWER, samples=[ANSWER] * 3))
