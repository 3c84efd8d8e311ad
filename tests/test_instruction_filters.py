"""Self-Instruct / Alpaca filters and reply parsers: exact reasons for every rule, and realistic
raw generations for every parser."""

from __future__ import annotations

import pytest

from camelid.stages.instructions.filters import (
    ALPACA_BLACKLIST,
    SELF_INSTRUCT_BLACKLIST,
    TRUNCATED,
    Dropped,
    ListedInstruction,
    blacklisted_word,
    filter_instances,
    instance_reject,
    instruction_reject,
)
from camelid.stages.instructions.parsers import (
    parse_alpaca_batch,
    parse_input_first,
    parse_output_first,
    parse_task_list,
)

# ---------------------------------------------------------------- instruction filters


@pytest.mark.parametrize(
    "instruction",
    [
        "Give three tips for staying healthy.",
        "The clerk filed the report late; summarize what happened.",  # "filed" is not "file"
        "Explain what a mapping between two sets is.",  # "mapping" is not "map"
        "Describe the imagery in this poem.",
        "Explain the word 'goto' in programming.",
    ],
)
def test_instruction_kept(instruction: str) -> None:
    assert instruction_reject(instruction) is None


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [
        ("", "empty instruction"),
        ("   \n\t ", "empty instruction"),
        ("Sort these numbers", "instruction has 3 words (allowed 4-150)"),
        ("Hello", "instruction has 1 word (allowed 4-150)"),
        (" ".join(["word"] * 151), "instruction has 151 words (allowed 4-150)"),
        ("Describe the image below in detail.", "instruction contains blacklisted word 'image'"),
        # a hyphen is a word boundary, as in the papers' regex
        (
            "Suggest a title for this plot-free essay.",
            "instruction contains blacklisted word 'plot'",
        ),
        ("Describe these IMAGES in detail.", "instruction contains blacklisted word 'images'"),
        (
            "Read the attached file and summarize it.",
            "instruction contains blacklisted word 'file'",
        ),
        ("Please draw a cat for me.", "instruction contains blacklisted word 'draw'"),
        ("Plot the sales figures by month.", "instruction contains blacklisted word 'plot'"),
        ("Find the shortest route on the map.", "instruction contains blacklisted word 'map'"),
        ("Make a graph of these values.", "instruction contains blacklisted word 'graph'"),
        ("Which pictures show a dog here?", "instruction contains blacklisted word 'pictures'"),
        ("Tell me where to Go To buy milk.", "instruction contains blacklisted word 'go to'"),
        ("I want to go\n  to the shop now.", "instruction contains blacklisted word 'go to'"),
        # the earliest blacklisted word in the text is named
        ("Open the file and draw its contents.", "instruction contains blacklisted word 'file'"),
        ("Write a program that adds two numbers.", "instruction starts with 'Write a program'"),
        ("  write A PROGRAM to sort a list.", "instruction starts with 'Write a program'"),
        ("- List three colors of the rainbow.", "instruction starts with punctuation '-'"),
        ('"Translate this sentence into French."', "instruction starts with punctuation '\"'"),
        ("¿Cómo se dice hello en francés?", "instruction starts with a non-ASCII character '¿'"),
        (
            "Été: describe the season in France.",
            "instruction starts with a non-ASCII character 'É'",
        ),
    ],
)
def test_instruction_rejected(instruction: str, reason: str) -> None:
    assert instruction_reject(instruction) == reason


def test_write_a_program_only_at_the_start() -> None:
    assert instruction_reject("Explain how to write a program that sorts a list.") is None


def test_multi_line_instruction_counts_words_across_lines() -> None:
    text = "Sort the list\nbelow:\n1. pear\n2. apple"
    assert instruction_reject(text) is None
    assert instruction_reject(text, max_words=6) == "instruction has 8 words (allowed 4-6)"
    assert instruction_reject("Sort\nthis\nlist") == "instruction has 3 words (allowed 4-150)"


def test_multi_line_instruction_blacklist_on_any_line() -> None:
    text = "Summarize the article.\nThen draw a conclusion about it."
    assert instruction_reject(text) == "instruction contains blacklisted word 'draw'"


def test_word_bounds_are_configurable() -> None:
    assert instruction_reject("Name a fruit.", min_words=3) is None
    assert instruction_reject("Name a fruit now please.", max_words=4) == (
        "instruction has 5 words (allowed 4-4)"
    )
    assert instruction_reject("Name fruit.", min_words=1, max_words=2) is None
    with pytest.raises(ValueError, match=r"^min_words \(5\) is greater than max_words \(4\)$"):
        instruction_reject("Name a fruit please now.", min_words=5, max_words=4)


def test_truncated_generation() -> None:
    assert instruction_reject("Give three tips for staying", truncated=True) == (
        "generation truncated (finish_reason=length)"
    )
    assert TRUNCATED == "generation truncated (finish_reason=length)"
    # an empty item is reported as empty, whatever the finish reason
    assert instruction_reject("", truncated=True) == "empty instruction"


@pytest.mark.parametrize("word", ["video", "audio", "music", "flowchart", "diagram"])
def test_alpaca_variant_adds_media_words(word: str) -> None:
    text = f"Describe the {word} in a few sentences."
    assert instruction_reject(text) is None
    assert instruction_reject(text, variant="alpaca") == (
        f"instruction contains blacklisted word '{word}'"
    )


def test_blacklists_are_the_papers() -> None:
    assert SELF_INSTRUCT_BLACKLIST == (
        "image", "images", "graph", "graphs", "picture", "pictures", "file", "files",
        "map", "maps", "draw", "plot", "go to",
    )  # fmt: skip
    assert ALPACA_BLACKLIST[len(SELF_INSTRUCT_BLACKLIST) :] == (
        "video", "audio", "music", "flowchart", "diagram",
    )  # fmt: skip
    assert ALPACA_BLACKLIST[: len(SELF_INSTRUCT_BLACKLIST)] == SELF_INSTRUCT_BLACKLIST


def test_extra_blacklist_and_whole_word_helper() -> None:
    text = "Summarize this spreadsheet for the board."
    assert instruction_reject(text) is None
    assert instruction_reject(text, extra_blacklist=["Spreadsheet"]) == (
        "instruction contains blacklisted word 'spreadsheet'"
    )
    assert blacklisted_word("The files were filed.", ["file"]) is None
    assert blacklisted_word("mapping maps", ["map", "maps"]) == "maps"
    assert blacklisted_word("Go   TO bed", ["go to"]) == "go to"
    assert blacklisted_word("goto bed", ["go to"]) is None
    assert blacklisted_word("anything", []) is None


def test_rules_apply_in_order() -> None:
    # too short wins over the blacklist, the blacklist over "Write a program"
    assert instruction_reject("Draw a map") == "instruction has 3 words (allowed 4-150)"
    assert instruction_reject("Write a program to plot data.") == (
        "instruction contains blacklisted word 'plot'"
    )


# ---------------------------------------------------------------- instance filters


@pytest.mark.parametrize(
    ("inp", "out", "reason"),
    [
        ("", "Paris is the capital of France.", None),
        ("3 + 4", "7", None),
        ("hello", "hello", "input equals output"),
        ("hello ", " hello", "input equals output"),
        ("Sentence: I liked it.", "", "empty output"),
        ("", "   ", "empty output"),
        ("Here is the list:", "apple, pear", "input ends with a colon"),
        ("List: a, b", "The answer is:  ", "output ends with a colon"),
        ("What is 2+2?", "4 (note: trivially)", None),
    ],
)
def test_instance_reject(inp: str, out: str, reason: str | None) -> None:
    assert instance_reject(inp, out) == reason


def test_filter_instances_conflicts_duplicates_and_order() -> None:
    pairs = [
        ("I loved this film.", "Positive"),
        ("The food was cold.", "Negative"),
        ("I loved this film.", "Negative"),  # same input, other output: both go
        ("Great service!", "Positive"),
        ("Great service!", "Positive"),  # exact repeat: first copy kept
        ("Total rubbish.", ""),
        ("", "A poem about rain."),
        ("", "Another poem about rain."),  # empty inputs never conflict
        ("Same", "Same"),
    ]
    kept, rejected = filter_instances(pairs)
    assert kept == [
        ("The food was cold.", "Negative"),
        ("Great service!", "Positive"),
        ("", "A poem about rain."),
        ("", "Another poem about rain."),
    ]
    assert rejected == [
        (("Total rubbish.", ""), "empty output"),
        (("Same", "Same"), "input equals output"),
        (("I loved this film.", "Positive"), "input appears with 2 different outputs"),
        (("I loved this film.", "Negative"), "input appears with 2 different outputs"),
        (("Great service!", "Positive"), "duplicate instance"),
    ]


def test_filter_instances_conflict_counts_only_valid_instances() -> None:
    # the colon-ended output is dropped first, so it does not make the input ambiguous
    kept, rejected = filter_instances([("x = 1", "Integer"), ("x = 1", "The type is:")])
    assert kept == [("x = 1", "Integer")]
    assert rejected == [(("x = 1", "The type is:"), "output ends with a colon")]


def test_filter_instances_three_outputs_and_empty() -> None:
    pairs = [("q", "a"), ("q", "b"), ("q", "c")]
    kept, rejected = filter_instances(pairs)
    assert kept == []
    assert [r for _, r in rejected] == ["input appears with 3 different outputs"] * 3
    assert filter_instances([]) == ([], [])


# ---------------------------------------------------------------- Self-Instruct task list

# What a base model writes after a prompt ending in "Task 9:" (note the leading space).
TASK_LIST_REPLY = """ Suggest a name for a new coffee shop near a university.
Task 10: Convert the following temperatures from Celsius to Fahrenheit.
25, 30, 100
Task 11:
Task 12: Write a program that prints the Fibonacci sequence.
  Task 13:   Explain why the sky is blue to a five-year-old.   

Task 14: Give me three reasons to learn"""


def test_parse_task_list_realistic_reply() -> None:
    assert parse_task_list(TASK_LIST_REPLY) == [
        ListedInstruction("Suggest a name for a new coffee shop near a university."),
        ListedInstruction(
            "Convert the following temperatures from Celsius to Fahrenheit.\n25, 30, 100"
        ),
        ListedInstruction("Write a program that prints the Fibonacci sequence."),
        ListedInstruction("Explain why the sky is blue to a five-year-old."),
        ListedInstruction("Give me three reasons to learn"),
    ]


def test_parse_task_list_truncated_marks_only_the_last() -> None:
    items = parse_task_list(TASK_LIST_REPLY, finish_reason="length")
    assert [i.truncated for i in items] == [False, False, False, False, True]
    assert parse_task_list(TASK_LIST_REPLY, finish_reason="stop")[-1].truncated is False


def test_parse_task_list_then_filter() -> None:
    items = parse_task_list(TASK_LIST_REPLY, finish_reason="length")
    reasons = [instruction_reject(i.text, truncated=i.truncated) for i in items]
    assert reasons == [
        None,
        None,
        "instruction starts with 'Write a program'",
        None,
        "generation truncated (finish_reason=length)",
    ]


def test_parse_task_list_keeps_numbered_lines_inside_a_task() -> None:
    reply = "Rank these cities by population:\n1. Lyon\n2. Paris\nTask 5: Name a river."
    assert parse_task_list(reply) == [
        ListedInstruction("Rank these cities by population:\n1. Lyon\n2. Paris"),
        ListedInstruction("Name a river."),
    ]


def test_parse_task_list_number_style() -> None:
    # Self-Instruct's own format: "Come up with a series of tasks:\n1. ...\n2. ...\n9."
    reply = " Find the odd one out: apple, pear, car.\n10. Summarize the news in one line.\n11.\n"
    assert parse_task_list(reply, style="number") == [
        ListedInstruction("Find the odd one out: apple, pear, car."),
        ListedInstruction("Summarize the news in one line."),
    ]


def test_parse_task_list_empty() -> None:
    assert parse_task_list("") == []
    assert parse_task_list("\n  \nTask 3:\n", finish_reason="length") == []
    # cut off right after the next marker: the task before it is whole
    assert parse_task_list(" Name a river.\nTask 6: ", finish_reason="length") == [
        ListedInstruction("Name a river.", truncated=False)
    ]


# ---------------------------------------------------------------- Alpaca batch

# Alpaca's prompt ends with "###\n4. Instruction:"; the model continues from there.
ALPACA_REPLY = """ Rewrite the sentence in the passive voice.
4. Input:
The chef cooked the meal.
4. Output:
The meal was cooked by the chef.
###
5. Instruction: Name three primary colors.
5. Input:
<noinput>
5. Output:
Red, blue and yellow.
###
6. Instruction: Translate the phrase into Spanish.
6. Output:
Buenos días.
###
7. Instruction: Summarize the paragraph.
7. Input:
Bees pollinate flowers.
They also make honey.
8. Output:
Bees pollinate and make honey.
###
8. Instruction: Explain photosynthesis briefly.
8. Input:
<NoInput>
8. Output:
Plants turn light, water and CO2 into sugar and oxygen.
###
9. Instruction: Classify the animal.
9. Input:
Whale
9. Output:
Mammal
9. Output:
Fish
###
10. Input: x
10. Instruction: Do y.
10. Output: z
###
11. Instruction: List two prime numbers
11. Input:
<noinput>
11. Output:
2 and"""


def test_parse_alpaca_batch_realistic_reply() -> None:
    records, dropped = parse_alpaca_batch(ALPACA_REPLY, prefix="4. Instruction:")
    assert [(r.instruction, r.input, r.output) for r in records] == [
        (
            "Rewrite the sentence in the passive voice.",
            "The chef cooked the meal.",
            "The meal was cooked by the chef.",
        ),
        ("Name three primary colors.", "", "Red, blue and yellow."),
        (
            "Explain photosynthesis briefly.",
            "",
            "Plants turn light, water and CO2 into sugar and oxygen.",
        ),
        ("List two prime numbers", "", "2 and"),
    ]
    assert [d.reason for d in dropped] == [
        "missing field: Input",
        "inconsistent numbering: 7, 7, 8",
        "repeated field: Output",
        "fields out of order: Input, Instruction, Output",
    ]
    assert dropped[0] == Dropped(
        "6. Instruction: Translate the phrase into Spanish.\n6. Output:\nBuenos días.",
        "missing field: Input",
    )


def test_parse_alpaca_batch_truncated_drops_the_last_block() -> None:
    records, dropped = parse_alpaca_batch(
        ALPACA_REPLY, prefix="4. Instruction:", finish_reason="length"
    )
    assert [r.instruction for r in records] == [
        "Rewrite the sentence in the passive voice.",
        "Name three primary colors.",
        "Explain photosynthesis briefly.",
    ]
    assert dropped[-1] == Dropped(
        "11. Instruction: List two prime numbers\n11. Input:\n<noinput>\n11. Output:\n2 and",
        "generation truncated (finish_reason=length)",
    )


def test_parse_alpaca_batch_without_prefix_first_block_is_malformed() -> None:
    records, dropped = parse_alpaca_batch(ALPACA_REPLY)
    assert dropped[0].reason == "missing field: Instruction"
    assert len(records) == 3


def test_parse_alpaca_batch_blank_blocks_and_trailing_separator() -> None:
    reply = "###\n1. Instruction: Name a fruit that is red.\n1. Input:\n<noinput>\n1. Output:\nA strawberry.\n###\n"
    # the generation stopped right after a separator: the block before it is complete
    records, dropped = parse_alpaca_batch(reply, finish_reason="length")
    assert [(r.instruction, r.input, r.output) for r in records] == [
        ("Name a fruit that is red.", "", "A strawberry.")
    ]
    assert dropped == []
    assert parse_alpaca_batch("") == ([], [])


def test_parse_alpaca_batch_multiline_fields_and_records() -> None:
    reply = (
        "###\n2. Instruction: Fix the grammar below.\n2. Input:\nShe go to school.\nHe run fast.\n"
        "2. Output:\nShe goes to school.\nHe runs fast.\n"
    )
    [record], dropped = parse_alpaca_batch(reply)
    assert dropped == []
    assert record.instruction == "Fix the grammar below."
    assert record.input == "She go to school.\nHe run fast."
    assert record.output == "She goes to school.\nHe runs fast."
    assert record.id  # a real Record, with its content id
    # the Alpaca instruction filter then applies to the parsed instruction
    assert instruction_reject(record.instruction, variant="alpaca") is None


# ---------------------------------------------------------------- instance replies

INPUT_FIRST_REPLY = """Example 1
Input: Convert 10 km to miles.
Output: 10 km is about 6.21 miles.

Example 2
Input 2: Convert 5 kg to pounds.
Output 2: 5 kg is about 11.02 pounds.
Input: Convert 1 m to feet.
Output: 1 m is about 3.28 feet.

Example 3.
Input: Convert 3 litres to gallons.

Example 4
Input: Convert 2 inches to centimetres.
Output: 2 inches is"""


def test_parse_input_first_realistic_reply() -> None:
    pairs, dropped = parse_input_first(INPUT_FIRST_REPLY)
    assert pairs == [
        ("Convert 10 km to miles.", "10 km is about 6.21 miles."),
        ("Convert 5 kg to pounds.", "5 kg is about 11.02 pounds."),  # the run-on pair is cut
        ("Convert 2 inches to centimetres.", "2 inches is"),
    ]
    assert dropped == [
        Dropped("Input: Convert 3 litres to gallons.", "example has no 'Output:' field")
    ]


def test_parse_input_first_truncated_drops_the_last() -> None:
    pairs, dropped = parse_input_first(INPUT_FIRST_REPLY, finish_reason="length")
    assert pairs[-1] == ("Convert 5 kg to pounds.", "5 kg is about 11.02 pounds.")
    assert dropped[-1] == Dropped(
        "Input: Convert 2 inches to centimetres.\nOutput: 2 inches is", TRUNCATED
    )


def test_parse_input_first_tasks_without_input() -> None:
    reply = "Example 1\nOutput: Roses are red,\nviolets are blue.\nExample 2\nA haiku about snow."
    assert parse_input_first(reply) == (
        [("", "Roses are red,\nviolets are blue."), ("", "A haiku about snow.")],
        [],
    )


def test_parse_input_first_single_unnumbered_instance() -> None:
    reply = "Input: What is the capital of Peru?\nOutput: Lima.\n"
    assert parse_input_first(reply) == ([("What is the capital of Peru?", "Lima.")], [])


def test_parse_input_first_example_word_inside_text_is_not_a_header() -> None:
    reply = "Example 1\nInput: Give an example.\nOutput: Example sentences help learners."
    assert parse_input_first(reply) == (
        [("Give an example.", "Example sentences help learners.")],
        [],
    )


def test_parse_input_first_nothing_usable() -> None:
    assert parse_input_first("I am not sure what you mean.") == (
        [],
        [Dropped("I am not sure what you mean.", "no 'Output:' field")],
    )
    assert parse_input_first("  ") == ([], [])


OUTPUT_FIRST_REPLY = """Class label: Positive
Input: The staff were friendly and the room was spotless.
Class label: Negative
Sentence: The train was two hours late.
Class label: Neutral
Class label: Negative
Input: The soup was"""


def test_parse_output_first_realistic_reply() -> None:
    pairs, dropped = parse_output_first(OUTPUT_FIRST_REPLY)
    assert pairs == [
        ("The staff were friendly and the room was spotless.", "Positive"),
        ("Sentence: The train was two hours late.", "Negative"),  # other field names stay
        ("", "Neutral"),
        ("The soup was", "Negative"),
    ]
    assert dropped == []


def test_parse_output_first_truncated_then_filtered() -> None:
    pairs, dropped = parse_output_first(OUTPUT_FIRST_REPLY, finish_reason="length")
    assert dropped == [Dropped("Class label: Negative\nInput: The soup was", TRUNCATED)]
    kept, rejected = filter_instances(pairs)
    assert kept == [
        ("The staff were friendly and the room was spotless.", "Positive"),
        ("Sentence: The train was two hours late.", "Negative"),
        ("", "Neutral"),
    ]
    assert rejected == []


def test_parse_output_first_preamble_and_missing_label() -> None:
    reply = "Here are some examples.\nclass label: Spam\nWin a free cruise now!!!\n"
    assert parse_output_first(reply) == ([("Win a free cruise now!!!", "Spam")], [])
    assert parse_output_first("Positive: I liked it.") == (
        [],
        [Dropped("Positive: I liked it.", "no 'Class label:' field")],
    )
    assert parse_output_first("") == ([], [])
