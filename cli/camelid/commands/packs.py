"""`camelid packs list | show | render`: see exactly what the model will be sent."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
import yaml

from camelid.commands.common import Inputs, SkipBadLines, epilog, input_paths
from camelid.io import dumps
from camelid.packs import Pack, list_builtin, load_pack
from camelid.runtime import Run, RunOptions
from camelid.stages.preview import preview

app = typer.Typer(
    help="List, show and render prompt packs (built-in names or your own pack folders).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PackName = Annotated[str, typer.Argument(help="A built-in pack name or a path to a pack folder.")]


@app.command("list", epilog=epilog("camelid packs list", "nothing", "one line per pack"))
def list_packs() -> None:
    """List the built-in packs: name, version, mode and what each is for."""
    for name in list_builtin():
        m = load_pack(name).manifest
        typer.echo(f"{m.name:<16} {m.version:<8} {m.mode:<10} {m.description}")


@app.command(
    "show",
    epilog=epilog("camelid packs show plain", "nothing", "the manifest and every template"),
)
def show(pack: PackName) -> None:
    """Print a pack's manifest, template hash and templates."""
    p = load_pack(pack)
    typer.echo(f"# {p.path}  (template hash {p.template_hash})")
    typer.echo(yaml.safe_dump(p.manifest.model_dump(by_alias=True), sort_keys=False).rstrip())
    files = [t.template for t in p.manifest.messages] + [
        f for f in (p.manifest.prompt, p.manifest.examples) if f
    ]
    for name in files:
        typer.echo(f"\n--- {name} ---")
        typer.echo((p.path / name).read_text(encoding="utf-8").rstrip())


@app.command(
    "render",
    epilog=epilog(
        "camelid seed --builtin | camelid packs render plain --limit 2",
        "records with the fields the pack names in `inputs`",
        "the conversation (chat packs) or prompt text (completion packs) for each record; "
        "with --json one JSONL line per record: id and messages or prompt",
    ),
)
def render(
    pack: PackName,
    inputs: Inputs = None,
    limit: Annotated[int, typer.Option(help="Render this many records.", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSONL instead of text.")] = False,
    skip_bad_lines: SkipBadLines = False,
) -> None:
    """Print exactly what the model would receive for the first records of the input."""
    p = load_pack(pack)
    with Run("render", RunOptions(skip_bad_lines=skip_bad_lines, quiet=True)) as run:
        for record_id, prompt, missing in preview(p, run.records(input_paths(inputs)), limit):
            if prompt is None:
                typer.echo(f"# {record_id}: lacks {', '.join(missing)}: not rendered", err=True)
            elif as_json:
                key = "prompt" if isinstance(prompt, str) else "messages"
                sys.stdout.buffer.write(dumps({"id": record_id, key: prompt}))
            else:
                _print_text(p, record_id, prompt)


def _print_text(pack: Pack, record_id: str, prompt: list[dict[str, str]] | str) -> None:
    typer.echo(f"===== {pack.name} {pack.manifest.version} · record {record_id} =====")
    if isinstance(prompt, str):
        typer.echo(prompt)
        return
    for message in prompt:
        typer.echo(f"[{message['role']}]\n{message['content']}\n")
