"""Prompt packs: loading, exact rendering, parsing, and the sandbox against hostile templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from camelid.errors import CamelidError, UsageError
from camelid.packs import ParserSpec, list_builtin, load_pack, parse_reply
from camelid.records import make_record
from tests.conftest import camelid


def make_pack(folder: Path, user_template: str, **manifest: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = {"name": "mine", "version": "0.1.0", "description": "test pack", **manifest}
    body = "".join(f"{k}: {v}\n" for k, v in lines.items())
    body += "inputs: [instruction]\nmessages:\n  - role: user\n    template: user.jinja\n"
    (folder / "pack.yaml").write_text(body)
    (folder / "user.jinja").write_text(user_template)
    return folder


def test_plain_renders_exact_conversation() -> None:
    pack = load_pack("plain")
    record = make_record(instruction="Sort these numbers.", input="3, 1, 2")
    assert pack.render(record) == [
        {
            "role": "system",
            "content": "You are a helpful assistant. Answer accurately and to the point.",
        },
        {"role": "user", "content": "Sort these numbers.\n\n3, 1, 2"},
    ]
    with_system = make_record(instruction="Hi", system="Answer in French.")
    assert pack.render(with_system)[0] == {"role": "system", "content": "Answer in French."}


def test_every_builtin_pack_loads() -> None:
    names = list_builtin()
    assert "plain" in names
    for name in names:
        pack = load_pack(name)
        assert pack.manifest.name == name and len(pack.template_hash) == 12


def test_user_pack_by_path_and_lineage(tmp_path: Path) -> None:
    folder = make_pack(tmp_path / "mine", "Q: {{ instruction | upper }}")
    pack = load_pack(str(folder))
    assert pack.render(make_record(instruction="why?")) == [{"role": "user", "content": "Q: WHY?"}]
    entry = pack.lineage("respond", "m", pack.sampling)
    assert (entry.pack, entry.pack_version, entry.template_hash) == (
        "mine",
        "0.1.0",
        pack.template_hash,
    )
    before = pack.template_hash
    (folder / "user.jinja").write_text("Q: {{ instruction }}")
    assert load_pack(str(folder)).template_hash != before


def test_undefined_variable_is_an_error(tmp_path: Path) -> None:
    pack = load_pack(str(make_pack(tmp_path / "p", "{{ instrucion }}")))
    with pytest.raises(CamelidError, match="template user.jinja: 'instrucion' is undefined"):
        pack.render(make_record(instruction="x"))


HOSTILE = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].listdir('/') }}",
    "{{ self._TemplateReference__context }}",
    "{{ instruction.__class__.__base__.__subclasses__() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% set x = [] %}{{ x.append(1) }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ (instruction|attr('__class__')).__mro__ }}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_sandbox_refuses_escapes(tmp_path: Path, template: str) -> None:
    pack = load_pack(str(make_pack(tmp_path / "evil", template)))
    with pytest.raises(CamelidError) as err:
        pack.render(make_record(instruction="x"))
    assert str(err.value).startswith("pack mine: template user.jinja: ")


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../etc/passwd", "../secret.txt"])
def test_include_cannot_leave_the_pack(tmp_path: Path, target: str) -> None:
    (tmp_path / "secret.txt").write_text("SECRET")
    pack = load_pack(str(make_pack(tmp_path / "evil", f"{{% include '{target}' %}}")))
    with pytest.raises(CamelidError, match="template user.jinja"):
        pack.render(make_record(instruction="x"))


def test_bad_manifest_names_file_and_field(tmp_path: Path) -> None:
    folder = make_pack(tmp_path / "bad", "x", version="one")
    with pytest.raises(CamelidError) as err:
        load_pack(str(folder))
    assert str(err.value) == (
        f'{folder}/pack.yaml: field "version": String should match pattern '
        "'^\\d+\\.\\d+\\.\\d+(?:[-+][0-9A-Za-z.-]+)?$'"
    )
    folder = make_pack(tmp_path / "typo", "x", temprature="0.3")
    with pytest.raises(CamelidError, match='field "temprature": Extra inputs are not permitted'):
        load_pack(str(folder))


def test_a_bare_name_is_a_builtin_pack_even_with_a_folder_of_that_name_here(
    tmp_path: Path, monkeypatch
) -> None:
    make_pack(tmp_path / "plain", "Q: {{ instruction }}")
    make_pack(tmp_path / "mine", "Q: {{ instruction }}")
    monkeypatch.chdir(tmp_path)
    assert load_pack("plain").path != tmp_path / "plain"  # the built-in, not ./plain
    assert load_pack("./plain").manifest.name == "mine"  # a path is a folder
    with pytest.raises(UsageError, match="no pack named 'mine': .*; for the folder here, "
                                         "write ./mine"):  # fmt: skip
        load_pack("mine")
    with pytest.raises(UsageError, match="^./nothing: not a pack folder"):
        load_pack("./nothing")


def test_unknown_pack_lists_builtins() -> None:
    with pytest.raises(UsageError, match="no pack named 'nope': built-in packs are .*plain"):
        load_pack("nope")


@pytest.mark.parametrize(
    ("spec", "text", "value", "error"),
    [
        (ParserSpec(), "  answer \n", "answer", None),
        (
            ParserSpec(type="numbered_list"),
            "Ideas:\n1. one\n2) two\n 3: three\nend",
            ["one", "two", "three"],
            None,
        ),
        (ParserSpec(type="numbered_list"), "no list here", None, "no numbered items in the reply"),
        (
            ParserSpec(type="json", schema={"required": ["score"]}),
            '{"score": 4}',
            {"score": 4},
            None,
        ),
        (
            ParserSpec(type="json", schema={"required": ["score"]}),
            '{"why": "x"}',
            None,
            "reply lacks score",
        ),
        (ParserSpec(type="json"), '{"score": 4', None, "reply is not valid JSON"),
        (
            ParserSpec(type="regex", pattern=r"Score: (?P<score>\d)"),
            "Reason. Score: 5",
            {"score": "5"},
            None,
        ),
    ],
)
def test_parsers(spec: ParserSpec, text: str, value: object, error: str | None) -> None:
    parsed = parse_reply(spec, text)
    assert parsed.value == value
    assert (parsed.error or None) == error or (error and parsed.error.startswith(error))


def test_cli_packs_render_and_list() -> None:
    result = camelid("packs", "render", "plain", input='{"instruction": "Name a river."}\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("[user]\nName a river.\n\n")
    result = camelid("packs", "render", "plain", "--json", input='{"instruction": "Hi"}\n')
    assert result.stdout.startswith('{"id":"') and '"messages":[{"role":"system"' in result.stdout
    listing = camelid("packs", "list").stdout
    rows = [line.split()[:3] for line in listing.splitlines()]
    assert ["plain", "1.0.0", "chat"] in rows and ["humpback", "1.0.0", "chat"] in rows


# --- more escapes (issue #9): str.format, other directives, files outside the pack --------

FORMAT_ESCAPES = [
    '{{ "{0.__class__.__mro__}".format(instruction) }}',
    '{{ "{x.__class__.__init__.__globals__}".format_map({"x": instruction}) }}',
    "{{ '%s'|format(instruction.__class__) }}",
]


@pytest.mark.parametrize("template", FORMAT_ESCAPES)
def test_sandbox_refuses_format_escapes(tmp_path: Path, template: str) -> None:
    pack = load_pack(str(make_pack(tmp_path / "evil", template)))
    with pytest.raises(CamelidError, match="pack mine: template user.jinja: access to attribute"):
        pack.render(make_record(instruction="x"))


@pytest.mark.parametrize(
    "directive",
    ["{% extends '../secret.txt' %}", "{% import '/etc/passwd' as x %}",
     "{% from '../secret.txt' import y %}"],
)  # fmt: skip
def test_other_directives_cannot_leave_the_pack(tmp_path: Path, directive: str) -> None:
    (tmp_path / "secret.txt").write_text("SECRET")
    pack = load_pack(str(make_pack(tmp_path / "evil", directive)))
    with pytest.raises(CamelidError, match="template user.jinja"):
        pack.render(make_record(instruction="x"))


@pytest.mark.parametrize("where", ["../secret.jsonl", "ABSOLUTE"])
def test_examples_file_must_be_inside_the_pack(tmp_path: Path, where: str) -> None:
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"token": "SECRET"}\n')
    examples = str(secret) if where == "ABSOLUTE" else where
    folder = make_pack(tmp_path / "evil", "{{ examples }}", examples=examples)
    with pytest.raises(CamelidError, match="out of the pack"):
        load_pack(str(folder)).render(make_record(instruction="x"))


def test_symlinked_template_cannot_leave_the_pack(tmp_path: Path) -> None:
    # a shared pack (a tarball, a git repo) may carry a symlink to ~/.ssh or a key file
    (tmp_path / "secret.txt").write_text("SECRET")
    folder = make_pack(tmp_path / "evil", "{% include 'part.jinja' %}")
    (folder / "part.jinja").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(CamelidError, match="template user.jinja"):
        load_pack(str(folder)).render(make_record(instruction="x"))


@pytest.mark.parametrize("template", ["{{ 1 / 0 }}", "{{ range(10**9) | list }}", "{{ 1 + 'a' }}"])
def test_template_runtime_errors_name_the_pack(tmp_path: Path, template: str) -> None:
    pack = load_pack(str(make_pack(tmp_path / "buggy", template)))
    with pytest.raises(CamelidError, match="pack mine: template user.jinja: "):
        pack.render(make_record(instruction="x"))


@pytest.mark.parametrize(
    ("pack", "temperature", "top_p", "max_tokens", "stop"),
    [
        ("self-align", 0.5, 0.95, 512, []),  # Dromedary's self_align_generate_65b_base.sh
        ("verbose", 0.3, 0.7, 512, []),  # Dromedary's verbose cloning
        ("redteam-topics", 1.0, 0.98, 128, ["\n\n"]),  # Dromedary's topic brainstorm
        ("redteam-questions", 1.0, 0.95, 64, ["\n"]),  # Dromedary's question generation
        ("self-instruct", 0.7, 0.5, 1024, ["\n\n"]),  # Self-Instruct's bootstrap_instructions.py
        ("alpaca", 1.0, 1.0, 3072, ["\n20", "20."]),  # Alpaca's generate_instruction.py
    ],
)
def test_packs_sample_as_their_papers_did(
    pack: str, temperature: float, top_p: float, max_tokens: int, stop: list[str]
) -> None:
    # The stop strings too: a line break folded into a space by YAML stops every reply at its
    # first word (it emptied every red-team question once).
    sampling = load_pack(pack).sampling
    assert (sampling.temperature, sampling.top_p, sampling.max_tokens, sampling.stop) == (
        temperature, top_p, max_tokens, stop,
    )  # fmt: skip
