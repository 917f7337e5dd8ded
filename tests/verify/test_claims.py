from guard.state import Claim
from guard.verify.claims import is_factual, split_claims


def texts(answer: str) -> list[str]:
    return [c.text for c in split_claims(answer)]


def test_each_sentence_keeps_its_markers():
    claims = split_claims("Refunds take 30 days [1]. Shipping is free [2][3]. Returns need a receipt.")
    assert [(c.text, c.markers) for c in claims] == [
        ("Refunds take 30 days.", [1]), ("Shipping is free.", [2, 3]), ("Returns need a receipt.", [])]


def test_markers_after_the_full_stop_belong_to_the_sentence_before():
    claims = split_claims("Refunds take 30 days.[1] Shipping is free.[2]")
    assert [(c.text, c.markers) for c in claims] == [("Refunds take 30 days.", [1]), ("Shipping is free.", [2])]


def test_marker_lists_and_ranges_expand():
    assert split_claims("Both agree [1, 3] and more [4-6].")[0].markers == [1, 3, 4, 5, 6]


def test_abbreviations_and_decimals_do_not_end_a_sentence():
    assert texts("Dr. Smith paid $3.5 million in Jan. 2020 to the U.S. government. It was late.") == [
        "Dr. Smith paid $3.5 million in Jan. 2020 to the U.S. government.", "It was late."]


def test_markdown_headings_lists_and_code_are_reduced_to_their_sentences():
    answer = "## Policy\n- **Refunds** take 30 days [1]\n- Shipping is free\n```python\nprint('x')\n```"
    assert texts(answer) == ["Refunds take 30 days", "Shipping is free"]


def test_claims_are_numbered_in_order():
    assert [c.index for c in split_claims("One fact here. Another fact there. A third one.")] == [0, 1, 2]


def test_questions_lead_ins_and_pleasantries_are_not_factual():
    for text in ("Would you like more details?", "Here is what I found:", "I hope this helps!", "Thanks!"):
        assert not is_factual(Claim(index=0, text=text)), text


def test_a_greeting_is_not_factual_but_a_sentence_that_opens_with_one_is():
    for text in ("Hello!", "Hi there!", "Good morning, Anna!", "Welcome back!"):
        assert not is_factual(Claim(index=0, text=text)), text
    for text in ("Hello, the refund takes 5 days.", "Hi-Fi speakers cost $50.", "History is taught in Rome."):
        assert is_factual(Claim(index=0, text=text)), text


def test_a_one_word_answer_is_a_factual_claim():
    assert is_factual(Claim(index=0, text="Delhi"))


def test_empty_answer_has_no_claims():
    assert split_claims("  \n ") == []
