from guard.verify.text import names, negation_count, number_found, numbers, split_sentences


def test_numbers_are_read_in_digits_scales_and_words():
    assert numbers("It cost 1,500 dollars, then 3.5 million, three times in 2019.") == {1500.0, 3.5e6, 3.0, 2019.0}


def test_rounded_numbers_still_match():
    assert number_found(1.5e6, {1_520_000.0})
    assert not number_found(1.5e6, {2_000_000.0})
    assert not number_found(3.0, {4.0})


def test_names_skip_the_sentence_opening_word_and_stopwords():
    assert names("The Oberoi family runs hotels in New Delhi, says NASA.") == {"oberoi", "new", "delhi", "nasa"}


def test_negations_are_counted_including_contractions():
    assert negation_count("He didn't go and never called.") == 2
    assert negation_count("He went.") == 0


def test_newlines_end_sentences():
    assert split_sentences("Title\nFirst line. Second line.") == ["Title", "First line.", "Second line."]
