"""What a word is, in one place: counts for length bounds, tokens for comparing texts."""

from __future__ import annotations

from camelid.text import content_word_count, word_count, word_tokens


def test_word_count_is_whitespace_words_as_self_instruct_counts_them() -> None:
    assert word_count("Give three tips, please!") == 4
    assert word_count("  spaced\tout \n text ") == 3
    assert word_count("") == 0


def test_word_tokens_are_lowercase_words_with_inner_apostrophes() -> None:
    assert word_tokens("Don’t stop—it's 3 o'clock, _ok_?") == ["don't", "stop", "it's", "3",
                                                              "o'clock", "ok"]  # fmt: skip


def test_content_words_need_a_letter_or_digit() -> None:
    assert content_word_count("- item one | two -- 3") == 4
