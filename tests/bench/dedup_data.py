"""Real text for the dedup benchmark: sentences from documentation on this machine, the
Self-Instruct seed tasks, instruction-like records made of them, and a labelled near-duplicate set.

Everything is drawn with a fixed seed from text found on the machine: the METADATA (package
descriptions) of the installed Python packages and the README files under /usr/share/doc.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS_FILE = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PROSE = re.compile(r"[A-Za-z][A-Za-z'-]*[,.;:?!]?|\d+[,.]?|\(|\)")
VERBS = (
    "Explain", "Summarize", "Rewrite", "Describe", "Translate", "Classify", "List", "Compare",
    "Suggest", "Write", "Give", "Generate", "Outline", "Paraphrase", "Evaluate", "Identify",
)  # fmt: skip


def _documents() -> Iterator[str]:
    site = Path(sys.prefix) / "lib"
    for path in sorted(site.glob("python3*/site-packages/*.dist-info/METADATA")):
        yield path.read_text(encoding="utf-8", errors="replace")
    for path in sorted(Path("/usr/share/doc").glob("*/README*")):
        try:
            raw = path.read_bytes()
            if path.suffix == ".gz":
                raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        yield raw.decode("utf-8", errors="replace")
    for path in sorted(Path("/usr/share/man").glob("man[158]/*.gz")):
        try:
            yield _unroff(gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace"))
        except (OSError, EOFError, gzip.BadGzipFile):
            continue


_ESCAPE = re.compile(r"\\f(\[[A-Z]*\]|\(..|.)|\\\(..|\\\[[^]]*\]|\\[&|^%]")


def _unroff(page: str) -> str:
    """The running text of a man page: macro lines break paragraphs or give their argument."""
    out: list[str] = []
    for line in page.splitlines():
        if line.startswith((".", "'")):
            macro, _, rest = line.partition(" ")
            if macro in (".B", ".I", ".BR", ".IR", ".RB", ".RI") and rest:
                out.append(rest.replace('"', ""))
            else:
                out.append("")
            continue
        out.append(line)
    text = "\n".join(out).replace("\\-", "-").replace("\\ ", " ").replace("\\e", "\\")
    return _ESCAPE.sub("", text)


def sentences(limit: int = 200_000) -> list[str]:
    """Prose sentences of 6 to 40 words (no code, no URLs, no tables), deduplicated, sorted."""
    seen: set[str] = set()
    for doc in _documents():
        for para in re.split(r"\n\s*\n", doc):
            text = " ".join(para.split())
            if not text or text[0] in "#|`-*>=:[<" or "://" in text or "_" in text:
                continue
            for sentence in _SENTENCE_END.split(text):
                words = sentence.split()
                if 6 <= len(words) <= 40 and all(_PROSE.fullmatch(w) for w in words):
                    seen.add(sentence)
        if len(seen) >= limit:
            break
    return sorted(seen)


def seed_texts() -> list[str]:
    rows = [json.loads(line) for line in SEEDS_FILE.read_text().splitlines() if line.strip()]
    return [r["instruction"] for r in rows]


def edit(text: str, words: list[str], rng: random.Random, edits: int) -> str:
    """Realistic edits: word swaps, insertions, deletions, punctuation and case changes,
    truncation."""
    out = text.split()
    for _ in range(edits):
        op = rng.randrange(6)
        if op == 0 and len(out) > 2:
            i = rng.randrange(len(out) - 1)
            out[i], out[i + 1] = out[i + 1], out[i]
        elif op == 1 and len(out) > 3:
            del out[rng.randrange(len(out))]
        elif op == 2:
            out.insert(rng.randrange(len(out) + 1), rng.choice(words))
        elif op == 3:
            case = rng.choice((str.upper, str.lower, str.capitalize))
            out = [case(w) if rng.random() < 0.3 else w for w in out]
        elif op == 4:
            out = [w.strip(".,;:?!") if rng.random() < 0.5 else w + "," for w in out]
        elif op == 5 and len(out) > 8:
            out = out[: len(out) - rng.randint(1, max(1, len(out) // 10))]
    return " ".join(out)


class Generator:
    """Instruction-like records from real sentences, about 15% near-duplicates of earlier ones.

    Lengths follow Alpaca's: an instruction of one sentence (a seed task with a third of its words
    swapped, or a task verb, a documentation sentence and often a clause of another), an input of
    1-3 sentences on 40% of records, an output of 1-4 sentences.
    """

    def __init__(self, seed: int = 0, dup_rate: float = 0.15) -> None:
        self.rng = random.Random(seed)
        self.sentences = sentences()
        self.seeds = seed_texts()
        self.words = [w for s in self.sentences[:20000] for w in s.split()]
        self.dup_rate = dup_rate
        self.recent: list[dict[str, str]] = []

    def _instruction(self) -> str:
        rng = self.rng
        if rng.random() < 0.4:
            words = rng.choice(self.seeds).split()
            return " ".join(rng.choice(self.words) if rng.random() < 0.35 else w for w in words)
        sentence = rng.choice(self.sentences)
        text = f"{rng.choice(VERBS)} {sentence[0].lower()}{sentence[1:]}"
        if rng.random() < 0.7:  # and a clause of another: 16 verbs x 65k sentences is too few
            other = rng.choice(self.sentences).split()
            text += " " + " ".join(other[: rng.randint(3, 8)])
        return text

    def _sentences(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(self.sentences) for _ in range(self.rng.randint(low, high)))

    def record(self, i: int) -> dict[str, str]:
        rng = self.rng
        if self.recent and rng.random() < self.dup_rate:
            original = rng.choice(self.recent)
            edits = rng.randint(1, 3)
            row = {k: edit(v, self.words, rng, edits) if k != "output" else v
                   for k, v in original.items() if k != "id"}  # fmt: skip
        else:
            row = {"instruction": self._instruction()}
            if rng.random() < 0.4:
                row["input"] = self._sentences(1, 3)
            row["output"] = self._sentences(1, 4)
            if len(self.recent) < 10_000:
                self.recent.append(row)
            else:
                self.recent[rng.randrange(10_000)] = row
        return {"id": f"r{i}", **row}


def write_records(path: Path, n: int, seed: int = 0) -> None:
    """n generated records as JSONL (reused when the file is there)."""
    if path.exists():
        return
    gen = Generator(seed)
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(gen.record(i), ensure_ascii=False) + "\n")
    tmp.replace(path)


def labelled(bases: int = 3000, seed: int = 1) -> tuple[list[dict[str, str]], list[int]]:
    """A labelled near-duplicate set: `bases` distinct instruction-like records from real text,
    each followed by 0-3 edited copies (1-3 edits each). Returns (records, origin of each)."""
    rng = random.Random(seed)
    sents, seeds = sentences(), seed_texts()
    words = [w for s in sents[:20000] for w in s.split()]
    rows: list[dict[str, str]] = []
    origin: list[int] = []
    for o in range(bases):
        kind = rng.random()
        if kind < 0.3:  # a seed task with a passage as its input
            row = {"instruction": rng.choice(seeds), "input": " ".join(rng.sample(sents, 2))}
        elif kind < 0.6:  # a shared template: only the passage tells records apart
            passage = " ".join(rng.sample(sents, rng.randint(1, 3)))
            row = {"instruction": f"{rng.choice(VERBS)} the following text.", "input": passage}
        else:
            sentence = rng.choice(sents)
            row = {"instruction": f"{rng.choice(VERBS)} {sentence[0].lower()}{sentence[1:]}"}
        rows.append(row)
        origin.append(o)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            edits = rng.randint(1, 3)
            # The edits fall on the instruction, or on the input when there is one.
            key = "input" if "input" in row and rng.random() < 0.5 else "instruction"
            rows.append({**row, key: edit(row[key], words, rng, edits)})
            origin.append(o)
    for i, row in enumerate(rows):
        row["id"] = f"l{i}"
    return rows, origin
