import pytest

from guard.layers.base import Skip
from guard.layers.support import SupportLayer, soft_min

SOURCES = ["Customers can request a refund within 30 days of purchase. Refunds are paid to the original payment "
           "method within 5 business days.", "Standard shipping is free for orders over 50 dollars."]


@pytest.fixture
def layer(config, offline_verifier):
    return SupportLayer(config, verifier=offline_verifier)


async def test_every_claim_gets_a_support_score(layer, make_state):
    state = make_state("You can get a refund within 30 days of purchase. Shipping is free for orders over 50 dollars.",
                       SOURCES)
    await layer.run(state)
    assert len(state.claims) == 2 and all(c.support > 0.5 for c in state.claims)
    assert state.signals["support"] > 0.5 and state.unsupported == []


async def test_the_unsupported_claim_is_listed_and_pulls_the_signal_down(layer, make_state):
    state = make_state("You can get a refund within 30 days of purchase. Refunds are paid in gold bars by courier.",
                       SOURCES)
    await layer.run(state)
    assert [u.text for u in state.unsupported] == ["Refunds are paid in gold bars by courier."]
    assert state.signals["support"] < sum(c.support for c in state.claims) / 2


async def test_pleasantries_are_not_scored(layer, make_state):
    state = make_state("Refunds are paid within 5 business days. I hope this helps!", SOURCES)
    await layer.run(state)
    assert [c.support is not None for c in state.claims] == [True, False]


async def test_no_sources_skips(layer, make_state):
    with pytest.raises(Skip, match="no sources"):
        await layer.run(make_state("Refunds take 30 days."))


async def test_an_answer_without_claims_skips(layer, make_state):
    with pytest.raises(Skip, match="no claims"):
        await layer.run(make_state("Would you like to know more?", SOURCES))


def test_soft_min_sits_between_the_minimum_and_the_mean():
    values = [0.1] + [0.9] * 9
    assert min(values) < soft_min(values) < sum(values) / len(values)
    assert soft_min([0.7, 0.7]) == pytest.approx(0.7)


async def test_model_work_runs_on_its_own_threads_not_asyncios_default_executor(config, make_state):
    import threading

    from guard.layers.support import SupportLayer
    from guard.verify.offline import OfflineVerifier

    seen: list[str] = []

    class Recording(OfflineVerifier):
        def probabilities(self, pairs):  # noqa: ANN001, ANN201
            seen.append(threading.current_thread().name)
            return [0.9] * len(pairs)

    layer = SupportLayer(config, verifier=Recording())
    await layer.run(make_state("Refunds are paid within five days.", ["Refunds are paid within five days."]))

    assert seen and all(name.startswith("guard-model") for name in seen)
