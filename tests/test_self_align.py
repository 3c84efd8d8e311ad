"""Self-Align: the pack's shape, principle names, and every rule of the answer filter."""

from __future__ import annotations

import json

import pytest

from camelid.packs import load_pack
from camelid.records import Completion, Record
from camelid.stages.respond.self_align import (
    PRINCIPLES,
    AnswerRules,
    canonical_principle,
    canonical_principles,
    check_answer,
    echoes,
    exemplar_text,
    fixed_grams,
    format_leak,
    has_thoughts,
    leaks,
    repeats,
    review,
    too_short,
)

RULES = AnswerRules()
ASK = Record(instruction="Give three tips for staying healthy.")


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("candor", "candor"),
        ("Candor", "candor"),
        ("7", "candor"),
        (7, "candor"),
        ("7 (candor)", "candor"),
        ("7. Candor", "candor"),
        ("12 dated knowledge", "dated knowledge"),
        ("Step by step", "step-by-step"),
        ("multi aspect", "multi-aspect"),
        ("balanced and informative perspectives", "balanced & informative perspectives"),
        ("7 (static)", None),  # number and name disagree
        ("17", None),
        (0, None),
        (True, None),
        ("kindness", None),
        (None, None),
    ],
)
def test_canonical_principle(value: object, name: str | None) -> None:
    assert canonical_principle(value) == name


def test_canonical_principles_dedupe_in_principle_order_or_say_why() -> None:
    assert canonical_principles(["creative", "1", "candor", "ethical"]) == [
        "ethical", "candor", "creative",
    ]  # fmt: skip
    assert canonical_principles([]) == []
    assert canonical_principles("candor") == "principles is not a list"
    assert canonical_principles(["candor", "kindness"]) == "unknown principle 'kindness'"


def test_pack_schema_offers_exactly_the_sixteen_principles() -> None:
    pack = load_pack("self-align")
    schema = pack.manifest.parser.json_schema
    assert tuple(schema["properties"]["principles"]["items"]["enum"]) == PRINCIPLES
    assert list(schema["properties"]) == ["thoughts", "principles", "answer"]  # thoughts first
    assert has_thoughts(pack) and not has_thoughts(load_pack("plain"))
    assert pack.sampling.json_schema == schema  # enforced at decoding


def test_pack_fixed_text_comes_first_and_is_identical_for_every_record() -> None:
    pack = load_pack("self-align")
    one = pack.render(Record(instruction="Name a colour."))
    two = pack.render(Record(instruction="Sum 2 and 3.", input="quickly"))
    assert one[:-1] == two[:-1] and len(one) == 16
    assert [m["role"] for m in one[1:-1]] == ["user", "assistant"] * 7
    assert one[-1] == {"role": "user", "content": "Name a colour."}
    assert two[-1] == {"role": "user", "content": "Sum 2 and 3.\n\nquickly"}
    system = one[0]["content"]
    for number, name in enumerate(PRINCIPLES, 1):
        assert f"\n{number} ({name}): " in system


def test_exemplar_replies_follow_the_schema_with_canonical_principles() -> None:
    pack = load_pack("self-align")
    replies = [m["content"] for m in pack.render(ASK) if m["role"] == "assistant"]
    for reply in replies:
        parsed = pack.parse(reply)
        assert parsed.error is None, reply
        assert list(parsed.value) == ["thoughts", "principles", "answer"]
        assert canonical_principles(parsed.value["principles"]) == [
            p for p in PRINCIPLES if p in parsed.value["principles"]
        ]
    assert len(exemplar_text(pack)) == 15  # 14 exemplar turns and the empty start of the last


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ('Sure. "answer": drink water', "answer contains the thought format ('\"answer\":')"),
        ("My internal thoughts are private.", "answer contains the thought format ('internal thoughts')"),
        ("The user wants tips, so here they are.", "answer contains the thought format ('The user wants')"),
        ("As 7 (candor) says, I am unsure.", "answer contains the thought format ('7 (candor)')"),
        ("Drink water and sleep.", None),
    ],
)  # fmt: skip
def test_format_leak(answer: str, reason: str | None) -> None:
    assert format_leak(answer) == reason


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "answer too short: 0 words (--min-answer-words 5)"),
        ("Yes.", "answer too short: 1 word (--min-answer-words 5)"),
        ("Drink more water, friend.", "answer too short: 4 words (--min-answer-words 5)"),
        ("Drink more water, my friend.", None),
    ],
)
def test_too_short(answer: str, reason: str | None) -> None:
    assert too_short(answer, RULES) == reason


def test_echo_of_instruction_or_input() -> None:
    said = "Give three tips for staying   HEALTHY: sleep, eat well, walk."
    assert echoes(said, ASK, RULES) == "answer repeats the instruction verbatim"
    assert echoes("Sleep, eat well and walk every day.", ASK, RULES) is None
    short = Record(instruction="Name a colour.")  # under 4 words: not checked
    assert echoes("Name a colour: blue is one.", short, RULES) is None
    synonyms = Record(instruction="Give synonyms of the word.", input="surprisingly")
    assert echoes("Surprisingly!", synonyms, RULES) == "answer only repeats the input"
    assert echoes("Unexpectedly, astonishingly.", synonyms, RULES) is None


def test_repeated_sentences() -> None:
    loop = "I can help. I can help! I can help. Here is one tip."
    assert repeats(loop, RULES) == (
        "answer repeats itself: 2 of 4 sentences are repeats (--max-repeat-share 0.3)"
    )
    assert repeats("Sleep. Sleep. Eat.", AnswerRules(max_repeat_share=0.5)) is None
    assert repeats("Sleep.\nSleep.", RULES) is None  # fewer than three sentences
    assert repeats("Sleep well. Eat well. Walk daily. Sleep well.", RULES) is None  # 1 of 4


def test_leak_of_exemplar_text_but_not_of_the_users_own_words() -> None:
    grams = fixed_grams(["It compares the word with its reverse, so it is fast."], 8)
    copied = "Easy: it compares the word with its reverse, so it works."
    assert leaks(copied, ASK, grams, 8) == (
        "answer copies the pack's exemplars: 'it compares the word with its reverse so'"
    )
    assert leaks("It compares the word with its mirror image.", ASK, grams, 8) is None
    own = Record(instruction="Explain: it compares the word with its reverse, so it is fast.")
    assert leaks("It compares the word with its reverse, so it is fast.", own, grams, 8) is None


def test_check_answer_names_the_first_failing_rule() -> None:
    pack = load_pack("self-align")
    grams = fixed_grams(exemplar_text(pack), RULES.leak_words)
    good = "Sleep seven to nine hours, drink water through the day, and walk for thirty minutes."
    assert check_answer(good, ASK, grams, RULES) is None
    bitcoin = "I'm happy to explain what tends to move the price, or how to read a price chart."
    assert check_answer(bitcoin, ASK, grams, RULES) == (
        "answer copies the pack's exemplars: \"i'm happy to explain what tends to move\""
    )
    assert check_answer("The user wants tips.", ASK, grams, RULES) == (
        "answer contains the thought format ('The user wants')"
    )  # the format rule comes before the length rule


def test_review_canonicalises_principles_then_filters() -> None:
    check = review(["unused exemplar text"], RULES)
    made = Completion.model_validate(
        {"text": "Sleep well, drink water and walk every day.", "principles": ["3", "ethical"]}
    )
    kept = check(ASK, made)
    assert isinstance(kept, Completion)
    assert kept.__pydantic_extra__ == {"principles": ["ethical", "helpful"]}
    assert check(ASK, made.model_copy(update={"text": "Sleep."})) == (
        "answer too short: 1 word (--min-answer-words 5)"
    )
    odd = Completion.model_validate({"text": "Sleep well tonight, friend.", "principles": ["x"]})
    assert check(ASK, odd) == "unknown principle 'x'"
    assert review([], None)(ASK, made.model_copy(update={"text": "Sleep."})).text == "Sleep."


def test_exemplars_are_json_lines_a_reader_can_check() -> None:
    # The exemplar files are what the model imitates: compact JSON, as the grammar makes it write.
    pack = load_pack("self-align")
    for path in sorted((pack.path / "exemplars").glob("*-assistant.jinja")):
        text = path.read_text().strip()
        assert json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")) == text


def test_principles_keep_the_papers_meaning() -> None:
    """Self-Align's "operational" asks the assistant to do what a computer can do (just sort the
    list), and "step-by-step" to reason through the steps before the final answer; an exemplar
    that names "operational" does the task instead of declining it."""
    pack = load_pack("self-align")
    system = pack.render(ASK)[0]["content"]
    operational = system.split("\n16 (operational): ")[1].split("\n")[0]
    assert "sorting a list" in operational and "cannot" not in operational
    assert "before giving the final answer" in system.split("\n13 (step-by-step): ")[1]
    cited = []
    for reply in (m["content"] for m in pack.render(ASK) if m["role"] == "assistant"):
        value = pack.parse(reply).value
        if "operational" in value["principles"]:
            cited.append(value["answer"])
    assert cited and all("can't" not in a and "cannot" not in a for a in cited)
    assert "apple, banana, cherry, mango, pear" in cited
