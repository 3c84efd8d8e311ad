"""Text for the dedup benchmark: a big timing corpus and a small labelled near-duplicate set.

- The timing corpus (`Generator`, `write_records`) needs volume: tens of thousands of distinct
  prose sentences (about 90k where this was written), drawn with a fixed seed from the
  documentation installed on this machine (package METADATA, /usr/share/doc READMEs, man pages)
  plus the Self-Instruct seed tasks. The repository's own text has about 1k distinct sentences,
  too few for a million records without accidental near-duplicates everywhere. The corpus
  therefore depends on the machine: its sentence count and fingerprint (`fingerprint`) go into
  the report, so two runs can be told apart.
- The labelled set (`labelled`) is built only from text shipped with the repository and its
  tests (README.md, the prompt packs under prompts/, the docstrings and string literals of
  cli/ and tests/, examples/) and the seed files read from ../shared/data (never copied into
  the project). It is the same on every machine for a given checkout.

Every near-duplicate differs from its original in its set of word unigrams (the tokens of
`camelid.text.unicode_tokenize`: lower-cased, punctuation dropped): word insertions, deletions
and substitutions, typos inside a word, boilerplate added before or after the instruction, and
sentence reorders (which change only n-grams, so a copy whose unigram set is still the
original's gets one more word substituted). Swapping two words, changing case or punctuation
leave the unigram set as it is, so they are not used.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from camelid.text import unicode_tokenize

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SEEDS_FILE = DATA / "self_instruct_seed_tasks.jsonl"
TGRT_FILE = DATA / "tgrt_seed_questions.jsonl"
CORPUS_VERSION = 2  # bump when Generator changes: cached corpus files carry it in their name

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# A prose word: letters (inner ' or -), maybe quoted or in parentheses, maybe punctuated.
_PROSE = re.compile(r"[(\"']?(?:[A-Za-z][A-Za-z'’-]*|\d+%?)[)\"']?[,.;:?!]?[)\"']?")
_MARKUP = re.compile(r"`|\*\*|^\s*(?:[-*]|\d+\.)\s+", re.MULTILINE)  # Markdown around prose
VERBS = (
    "Explain", "Summarize", "Rewrite", "Describe", "Translate", "Classify", "List", "Compare",
    "Suggest", "Write", "Give", "Generate", "Outline", "Paraphrase", "Evaluate", "Identify",
)  # fmt: skip
# Shared instructions: records that differ only by their passage are distinct (hard negatives).
TEMPLATES = (
    "Summarize the following text.",
    "Translate the following text into French.",
    "Rewrite the following text in simpler words.",
    "Find the grammatical errors in the following text and correct them.",
    "Give the following paragraph a short title.",
    "What is the main point of the following passage?",
    "Classify the tone of the following text as positive, negative or neutral.",
    "List the key facts stated in the text below.",
    "Turn the following text into a question and answer pair.",
    "Explain the following text to a ten year old.",
)
PREFIXES = (
    "Sure! Here is the task:", "Please help me with this.", "Task:", "Question:",
    "I have a request.", "Hi there, can you help?",
)  # fmt: skip
SUFFIXES = (
    "Thanks in advance.", "Please answer briefly.", "Explain your reasoning.",
    "Be concise.", "Answer in English.",
)  # fmt: skip


def fingerprint(texts: Iterable[str]) -> str:
    """A short hash of the texts, in order: tells whether two runs used the same text."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode() + b"\n")
    return digest.hexdigest()[:16]


def prose_sentences(docs: Iterable[str], limit: int | None = None) -> list[str]:
    """Prose sentences of 6 to 40 words (no code, no URLs, no tables), deduplicated, sorted."""
    seen: set[str] = set()
    for doc in docs:
        for para in re.split(r"\n\s*\n", _MARKUP.sub("", doc)):
            text = " ".join(para.split())
            if not text or text[0] in "#|-*>=:[<{" or "://" in text:
                continue
            for sentence in _SENTENCE_END.split(text):
                words = sentence.split()
                if 6 <= len(words) <= 40 and all(_PROSE.fullmatch(w) for w in words):
                    seen.add(sentence)
        if limit is not None and len(seen) >= limit:
            break
    return sorted(seen)


# --- the timing corpus: installed documentation -------------------------------------------


def _installed_docs() -> Iterator[str]:
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


def installed_sentences(limit: int = 200_000) -> list[str]:
    return prose_sentences(_installed_docs(), limit)


def seed_instructions() -> list[str]:
    return [row["instruction"] for row in _jsonl(SEEDS_FILE)]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- edits ----------------------------------------------------------------------------------


def _typo(word: str, rng: random.Random) -> str:
    """One character inserted, deleted, replaced or two swapped, inside a word of 4+ letters."""
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == 0:
        return word[:i] + letter + word[i:]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if op == 2:
        return word[:i] + letter + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _reorder(text: str, rng: random.Random) -> str | None:
    """The sentences in another order, or None for a single sentence."""
    parts = _SENTENCE_END.split(text)
    if len(parts) < 2:
        return None
    i = rng.randrange(len(parts) - 1)
    parts[i], parts[i + 1] = parts[i + 1], parts[i]
    return " ".join(parts)


def edit_words(text: str, vocab: list[str], rng: random.Random) -> str:
    """One edit that may change the unigram set: insert, delete, substitute, typo, reorder."""
    words = text.split()
    op = rng.choice(("insert", "delete", "substitute", "typo", "reorder"))
    if op == "reorder":
        return _reorder(text, rng) or edit_words(text, vocab, rng)
    if op == "insert":
        words.insert(rng.randrange(len(words) + 1), rng.choice(vocab))
    elif op == "delete" and len(words) > 3:
        del words[rng.randrange(len(words))]
    elif op == "typo" and any(len(w) >= 4 and w.isalpha() for w in words):
        i = rng.choice([k for k, w in enumerate(words) if len(w) >= 4 and w.isalpha()])
        words[i] = _typo(words[i], rng)
    else:
        words[rng.randrange(len(words))] = rng.choice(vocab)
    return " ".join(words)


def unigrams(row: dict[str, str]) -> frozenset[str]:
    """The word-unigram set camelid's default compares: tokens of instruction + "\\n" + input."""
    text = "\n".join(row[k] for k in ("instruction", "input") if row.get(k))
    return frozenset(unicode_tokenize(text))


def near_copy(row: dict[str, str], vocab: list[str], rng: random.Random) -> dict[str, str]:
    """A near-duplicate: 1-3 edits (at most one per 8 words), boilerplate (on the instruction)
    among them, on the instruction or the input; always a different unigram set."""
    out = dict(row)
    length = sum(len(v.split()) for k, v in row.items() if k in ("instruction", "input"))
    for _ in range(rng.randint(1, max(1, min(3, length // 8)))):
        if rng.random() < 0.2:
            if rng.random() < 0.5:
                out["instruction"] = f"{rng.choice(PREFIXES)} {out['instruction']}"
            else:
                out["instruction"] = f"{out['instruction']} {rng.choice(SUFFIXES)}"
            continue
        key = "input" if out.get("input") and rng.random() < 0.5 else "instruction"
        out[key] = edit_words(out[key], vocab, rng)
    while unigrams(out) == unigrams(row):  # e.g. only a reorder: one word more is changed
        words = out["instruction"].split()
        words[rng.randrange(len(words))] = rng.choice(vocab)
        out["instruction"] = " ".join(words)
    return out


# --- the timing corpus ----------------------------------------------------------------------


class Generator:
    """Instruction-like records from installed documentation, ~15% near-duplicates of earlier ones.

    Lengths follow Alpaca's: an instruction of one sentence (a seed task with a third of its words
    swapped, or a task verb, a documentation sentence and often a clause of another), an input of
    1-3 sentences on 40% of records, an output of 1-4 sentences. A near-duplicate is a
    `near_copy` of one of 10,000 recent originals (its output kept).
    """

    def __init__(self, seed: int = 0, dup_rate: float = 0.15) -> None:
        self.rng = random.Random(seed)
        self.sentences = installed_sentences()
        self.seeds = seed_instructions()
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
        if rng.random() < 0.7:  # and a clause of another: 16 verbs x the sentences is too few
            other = rng.choice(self.sentences).split()
            text += " " + " ".join(other[: rng.randint(3, 8)])
        return text

    def _sentences(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(self.sentences) for _ in range(self.rng.randint(low, high)))

    def record(self, i: int) -> dict[str, str]:
        rng = self.rng
        if self.recent and rng.random() < self.dup_rate:
            row = near_copy(rng.choice(self.recent), self.words, rng)
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


def write_records(path: Path, n: int, seed: int = 0) -> dict[str, object]:
    """n generated records as JSONL (reused when the file is there); returns what they were
    made from (kept beside them as .corpus.json)."""
    about = path.with_suffix(".corpus.json")
    if path.exists() and about.exists():
        return json.loads(about.read_text())
    gen = Generator(seed)
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(gen.record(i), ensure_ascii=False) + "\n")
    info = {
        "records": n,
        "seed": seed,
        "source": "documentation installed on this machine + Self-Instruct seed tasks",
        "sentences": len(gen.sentences),
        "sentences_fingerprint": fingerprint(gen.sentences),
    }
    about.write_text(json.dumps(info) + "\n")
    tmp.replace(path)
    return info


# --- the labelled set: repository text only -------------------------------------------------


def _python_strings(path: Path) -> Iterator[str]:
    """Docstrings and string literals of a Python file (its prose, not its code)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def _repo_docs() -> Iterator[str]:
    yield (ROOT / "README.md").read_text(encoding="utf-8")
    for folder in ("prompts", "examples"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file():
                yield path.read_text(encoding="utf-8", errors="replace")
    # tests/bench is left out: this module's own strings would feed the set they label.
    for path in [*sorted((ROOT / "cli").rglob("*.py")), *sorted((ROOT / "tests").glob("*.py"))]:
        yield from _python_strings(path)


def _far_apart(texts: list[str], keep: int) -> list[str]:
    """Texts in order, leaving out any whose word unigrams or bigrams overlap an earlier one's
    by Jaccard 0.5 or more (the first `keep` always stay): distinct originals must not be
    near-duplicates by accident. Both shingles are checked so neither option is favoured."""
    kept: list[tuple[frozenset, frozenset]] = []
    out: list[str] = []
    for k, text in enumerate(texts):
        tokens = unicode_tokenize(text)
        uni, bi = frozenset(tokens), frozenset(zip(tokens, tokens[1:], strict=False))
        if k >= keep and any(_jaccard(uni, u) >= 0.5 or _jaccard(bi, b) >= 0.5 for u, b in kept):
            continue
        kept.append((uni, bi))
        out.append(text)
    return out[keep:]


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b or 2 * min(len(a), len(b)) < max(len(a), len(b)):
        return 0.0  # sizes this far apart cannot reach 0.5
    common = len(a & b)
    return common / (len(a) + len(b) - common)


@dataclass
class Labelled:
    rows: list[dict[str, str]]  # id, instruction, input (when there is one)
    origin: list[int]  # the original each row was made from: the truth
    group: list[str]  # the instruction a row may share with other originals ("" if none)
    sources: dict[str, int]  # how many texts came from where
    fingerprint: str


def seed_tasks() -> list[dict[str, str]]:
    """The Self-Instruct seed tasks (instruction and first instance's input) and the red-team
    seed questions, as records."""
    rows = []
    for task in _jsonl(SEEDS_FILE):
        row = {"instruction": task["instruction"]}
        if task["instances"][0]["input"]:
            row["input"] = task["instances"][0]["input"]
        rows.append(row)
    rows += [{"instruction": q["question"]} for q in _jsonl(TGRT_FILE)]
    return rows


def _take(pool: list[str], rng: random.Random, low: int, high: int) -> list[str]:
    """low to high sentences off the pool (fewer when it runs out): each is used once."""
    return [pool.pop() for _ in range(min(len(pool), rng.randint(low, high)))]


def _input(pool: list[str], rng: random.Random) -> str:
    """An input: a passage of 1-3 sentences, or (one time in three) the first 3-7 words of one,
    as short inputs are where records sharing an instruction come closest."""
    if rng.random() < 1 / 3:
        return " ".join(pool.pop().split()[: rng.randint(3, 7)])
    return " ".join(_take(pool, rng, 1, 3))


def labelled(seed: int = 1) -> Labelled:
    """The labelled near-duplicate set: distinct originals, each followed by 0-3 near copies.

    Originals: every seed task as it is; then, until the repository's sentences run out (each
    used once), a shared instruction (`TEMPLATES`) with a new input (`_input`), a seed
    instruction that takes an input with a new input (so it shares its instruction with the seed
    task), or 1-2 sentences as the instruction. Records sharing an instruction are distinct
    (hard negatives); copies are `near_copy`s.
    """
    rng = random.Random(seed)
    seeds = seed_tasks()
    seed_texts = ["\n".join(r.values()) for r in seeds]
    outputs = [i["output"] for t in _jsonl(SEEDS_FILE) for i in t["instances"]]
    repo = prose_sentences(_repo_docs())
    pool = prose_sentences([*outputs]) + repo
    pool = _far_apart(seed_texts + sorted(set(pool)), keep=len(seed_texts))
    vocab = sorted({w.strip(".,;:?!()") for s in pool for w in s.split()} - {""})
    passages = len(pool)
    rng.shuffle(pool)
    with_input = [r["instruction"] for r in seeds if "input" in r]

    originals = [(r, r["instruction"] if "input" in r else "") for r in seeds]
    while pool:
        kind = rng.random()
        if kind < 0.45:
            template = rng.choice(TEMPLATES)
            originals.append(({"instruction": template, "input": _input(pool, rng)}, template))
        elif kind < 0.65:
            instruction = rng.choice(with_input)
            originals.append(
                ({"instruction": instruction, "input": _input(pool, rng)}, instruction)
            )
        else:
            originals.append(({"instruction": " ".join(_take(pool, rng, 1, 2))}, ""))
    rng.shuffle(originals)  # seeds spread over both splits

    rows: list[dict[str, str]] = []
    origin: list[int] = []
    group: list[str] = []
    for o, (row, shared) in enumerate(originals):
        copies = [row] + [near_copy(row, vocab, rng) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
        for copy in copies:
            rows.append({"id": f"l{len(rows)}", **copy})
            origin.append(o)
            group.append(shared)
    sources = {"seed_tasks": len(seeds), "seed_output_sentences": len(prose_sentences(outputs))}
    sources |= {"repo_sentences": len(repo), "sentences_used": passages}
    texts = (json.dumps(r, sort_keys=True) for r in rows)
    return Labelled(rows, origin, group, sources, fingerprint(texts))
