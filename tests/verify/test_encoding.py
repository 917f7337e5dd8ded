"""What the offline verifier's encodings and features may not depend on: batch companions, batching, shortcuts."""

import numpy as np
import pytest

from guard.embeddings import get_embedder, length_batches
from guard.verify.features import first_quartile
from guard.verify.offline import OfflineVerifier

PAIR = ("Refunds are paid within 5 business days.", ["Refunds are paid to the original payment method within 5 business days."])
LONG = ("The museum, which reopened last spring after a renovation that took four years and cost far more than planned, "
        "now opens at nine on Sundays.", ["Tickets cost eight euros; children under twelve enter free of charge all year."])


def test_a_text_encodes_the_same_whatever_it_is_batched_with():
    embedder = get_embedder()
    (tokens_alone, alone), = embedder.encode_tokens([PAIR[0]])
    (tokens_beside, beside), _ = embedder.encode_tokens([PAIR[0], LONG[0]])
    assert tokens_alone == tokens_beside and "[PAD]" not in tokens_beside
    assert np.allclose(alone, beside, atol=1e-5)


def test_a_score_does_not_depend_on_the_pairs_scored_beside_it(offline_verifier):
    alone = OfflineVerifier().probabilities([PAIR])[0]  # fresh verifiers: nothing cached from another call
    beside = OfflineVerifier().probabilities([PAIR, LONG])[0]
    assert alone == pytest.approx(beside, abs=1e-6)


@pytest.mark.parametrize("lengths", [[], [7], [5, 100, 98, 20, 22, 150, 7, 60], list(range(1, 200, 3))])
def test_length_batches_cover_every_text_once_longest_first(lengths):
    batches = length_batches(lengths)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    longest = [max(lengths[i] for i in batch) for batch in batches]
    assert longest == sorted(longest, reverse=True) and all(len(b) <= 64 for b in batches)


def test_length_batches_split_only_where_padding_costs_more_than_a_pass():
    assert length_batches([10, 11, 12], pass_tokens=48) == [[2, 1, 0]]  # 6 tokens of padding: one pass
    assert length_batches([10, 200], pass_tokens=48) == [[1], [0]]  # 190 tokens of padding: two passes


def test_first_quartile_is_numpys_to_the_bit():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for n in range(1, 70):
            values = (rng.standard_normal(n) * 3).astype(dtype)
            values[: n // 3] = values[0]  # ties
            assert first_quartile(values) == float(np.quantile(values, 0.25))
