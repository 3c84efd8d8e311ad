"""Records: stable content ids, jq-friendly output, checked-in schemas in step with the models."""

from __future__ import annotations

import hashlib

from camelid.records import Record, make_record
from camelid.resources import builtin_dir
from camelid.schemas import generate


def test_id_is_a_stable_content_hash() -> None:
    a = Record.model_validate({"instruction": "Add 2 and 2.", "input": "", "zz": 1})
    b = Record.model_validate({"input": "", "instruction": "Add 2 and 2."})
    canonical = b'{"input":"","instruction":"Add 2 and 2."}'  # sorted keys, no spaces
    assert a.id == b.id == hashlib.sha256(canonical).hexdigest()[:16] == "5a798635e8fbb90a"
    assert make_record(instruction="Add 2 and 3.").id != a.id


def test_given_id_is_kept() -> None:
    assert Record.model_validate({"id": "mine", "instruction": "x"}).id == "mine"


def test_output_omits_unset_fields() -> None:
    record = make_record(instruction="Hi", tags=[], scores={})
    assert record.to_dict() == {"id": record.id, "instruction": "Hi"}


def test_checked_in_schemas_match_the_models() -> None:
    folder = builtin_dir("schemas")
    for name, text in generate().items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"schemas/{name} is out of date: run `python -m camelid.schemas`"
        )


def test_nested_unknown_keys_pass_through_with_nulls() -> None:
    data = {"instruction": "x", "completions": [{"text": "t", "scores": {"h": None}, "note": None}]}
    record = Record.model_validate(data)
    assert record.to_dict()["completions"] == [{"text": "t", "scores": {"h": None}, "note": None}]
