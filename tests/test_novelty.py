"""camelid.novelty against Google's rouge_score: same tokens, same F1 bits, same decisions."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from camelid.novelty import Match, NoveltyPool, _f1_array, f1_from_lcs, rouge_l
from camelid.text import rouge_tokenize, tokenize, unicode_tokenize

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEEDS = [
    json.loads(line)["instruction"]
    for line in (DATA / "self_instruct_seed_tasks.jsonl").read_text().splitlines()
    if line.strip()
]
WORDS = sorted({w for s in SEEDS for w in s.split()})


def variant(text: str, rng: random.Random) -> str:
    """A near-duplicate: a few word swaps, deletions, insertions, case or punctuation changes,
    truncations or shuffles."""
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0 and len(words) > 2:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        elif op == 1 and len(words) > 2:
            del words[rng.randrange(len(words))]
        elif op == 2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
        elif op == 3:
            words = [w.upper() if rng.random() < 0.3 else w for w in words]
        elif op == 4:
            words = [w.strip(".,?!:;") + rng.choice(["", "", ",", "!", "...", "-"]) for w in words]
        elif op == 5 and len(words) > 3:
            words = words[: rng.randint(2, len(words) - 1)]
        elif op == 6:
            i = rng.randrange(len(words))
            j = min(len(words), i + rng.randint(2, 5))
            middle = words[i:j]
            rng.shuffle(middle)
            words[i:j] = middle
    return " ".join(words)


def variants(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(count):
        base = rng.choice(SEEDS + out) if out else rng.choice(SEEDS)
        out.append(variant(base, rng))
    return out


def mixes(count: int, seed: int = 1) -> list[str]:
    """Novel-looking instructions: the head of one seed, the tail of another."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        a, b = rng.choice(SEEDS).split(), rng.choice(SEEDS).split()
        out.append(" ".join(a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1) :]))
    return out


@pytest.fixture(scope="module")
def reference():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    return rouge_scorer


# ---- tokenizers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unicode_tokens", "rouge_tokens"),
    [
        (
            "Hello, World! It's 2024_x -- don't",
            ["hello", "world", "it", "s", "2024", "x", "don", "t"],
            ["hello", "world", "it", "s", "2024", "x", "don", "t"],
        ),
        ("  \t\n", [], []),
        ("写一首关于秋天的诗", ["写", "一", "首", "关", "于", "秋", "天", "的", "诗"], []),
        ("用Python写代码", ["用", "python", "写", "代", "码"], ["python"]),
        ("東京タワーへ行く", ["東", "京", "タ", "ワ", "ー", "へ", "行", "く"], []),
        ("東京・大阪、ｶﾀｶﾅ", ["東", "京", "大", "阪", "カ", "タ", "カ", "ナ"], []),
        ("안녕하세요 세계", ["안", "녕", "하", "세", "요", "세", "계"], []),
        ("Καλημέρα κόσμε! ΛΟΓΟΣ λόγος", ["καλημέρα", "κόσμε", "λογοσ", "λόγοσ"], []),
        ("Café crème brûlée", ["café", "crème", "brûlée"], ["caf", "cr", "me", "br", "l", "e"]),
        ("cafe\u0301", ["café"], ["cafe"]),  # NFKC composes the accent
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"], []),  # vowel signs stay in the word
        ("straße ＡＢＣ１２３ x²", ["strasse", "abc123", "x2"], ["stra", "e", "x"]),
        ("ﬁnd the ﬁle", ["find", "the", "file"], ["nd", "the", "le"]),
        ("joke’s “quoted”", ["joke", "s", "quoted"], ["joke", "s", "quoted"]),
    ],
)
def test_tokenizers_exact_output(text, unicode_tokens, rouge_tokens):
    assert unicode_tokenize(text) == unicode_tokens
    assert tokenize(text) == unicode_tokens
    assert rouge_tokenize(text) == rouge_tokens
    assert tokenize(text, "rouge") == rouge_tokens


def test_unknown_tokenizer_is_refused():
    with pytest.raises(ValueError, match="unknown tokenizer 'bpe'; choose one of: unicode, rouge"):
        tokenize("x", "bpe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown tokenizer"):
        NoveltyPool(tokenizer="bpe")  # type: ignore[arg-type]


def test_rouge_tokenizer_matches_reference_everywhere():
    tokenizers = pytest.importorskip("rouge_score.tokenizers")
    ref = tokenizers.DefaultTokenizer(use_stemmer=False)
    rng = random.Random(7)
    alphabet = "abcXYZ019 _-'.,!?\t\n\r\x0b\x0c\u00a0\u2028éÉßİıſKµΣσςДж写ア한ﬁ²½\u0301\u200b🙂"
    texts = SEEDS + variants(200) + ["".join(rng.choices(alphabet, k=40)) for _ in range(2000)]
    for text in texts:
        assert rouge_tokenize(text) == ref.tokenize(text), text


def test_unicode_tokenizer_equals_reference_on_ascii():
    tokenizers = pytest.importorskip("rouge_score.tokenizers")
    ref = tokenizers.DefaultTokenizer(use_stemmer=False)
    rng = random.Random(8)
    ascii_chars = [chr(i) for i in range(128)]
    texts = [s for s in SEEDS + variants(300) if s.isascii()]
    texts += ["".join(rng.choices(ascii_chars, k=60)) for _ in range(2000)]
    for text in texts:
        assert unicode_tokenize(text) == ref.tokenize(text), text


# ---- scores ----------------------------------------------------------------------------------


def test_f1_formula_is_bit_identical_including_the_threshold_edge(reference):
    for m in range(1, 31):
        for n in range(1, 31):
            for lcs in range(min(m, n) + 1):
                target = [f"s{i}" for i in range(lcs)] + [f"t{i}" for i in range(m - lcs)]
                prediction = [f"s{i}" for i in range(lcs)] + [f"p{i}" for i in range(n - lcs)]
                expected = reference._score_lcs(target, prediction).fmeasure
                assert f1_from_lcs(lcs, m, n) == expected
                assert rouge_l(target, prediction) == expected
                if lcs:  # the array version is only ever given LCS >= 1
                    assert float(_f1_array(np.array([lcs]), m, np.array([n]))[0]) == expected
    # Ratios that are 0.7 on paper: the float decision must still be the reference's.
    for lcs, m, n in [(7, 10, 10), (14, 20, 20), (7, 8, 12), (21, 30, 30), (35, 50, 50)]:
        target = [f"s{i}" for i in range(lcs)] + [f"t{i}" for i in range(m - lcs)]
        prediction = [f"s{i}" for i in range(lcs)] + [f"p{i}" for i in range(n - lcs)]
        expected = reference._score_lcs(target, prediction).fmeasure
        pool = NoveltyPool([" ".join(prediction)], tokenizer="rouge")
        result = pool.check(" ".join(target))
        assert result.max_score == expected
        assert result.novel is not (expected > 0.7)


def test_zero_cases():
    assert f1_from_lcs(0, 0, 5) == 0.0
    assert f1_from_lcs(0, 5, 0) == 0.0
    assert f1_from_lcs(0, 5, 5) == 0.0
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("!!!", "???") == 0.0
    assert rouge_l("one two", "three four") == 0.0


def test_pair_scores_match_rouge_score_on_seeds_and_variants(reference):
    ref_tokenize = reference.RougeScorer(["rougeL"], use_stemmer=False)._tokenizer.tokenize
    texts = SEEDS + variants(400) + mixes(200)
    tokens = [ref_tokenize(t) for t in texts]
    pairs = [(i, j) for i in range(len(SEEDS)) for j in range(len(SEEDS))]  # all seed pairs
    rng = random.Random(3)
    pairs += [(rng.randrange(len(texts)), rng.randrange(len(texts))) for _ in range(30000)]
    above = 0
    for i, j in pairs:
        expected = reference._score_lcs(tokens[i], tokens[j]).fmeasure
        assert rouge_l(texts[i], texts[j], tokenizer="rouge") == expected, (texts[i], texts[j])
        above += expected > 0.7
    assert above > 200  # the sample does exercise the threshold
    # Through the full scorer, tokenization included.
    scorer = reference.RougeScorer(["rougeL"], use_stemmer=False)
    for i, j in pairs[:2000]:
        expected = scorer.score(texts[i], texts[j])["rougeL"].fmeasure
        assert rouge_l(texts[i], texts[j], tokenizer="rouge") == expected


def test_pool_check_matches_reference_against_every_entry(reference):
    ref_tokenize = reference.RougeScorer(["rougeL"], use_stemmer=False)._tokenizer.tokenize
    pool_texts = SEEDS + variants(300, seed=5)
    pool = NoveltyPool(pool_texts, tokenizer="rouge")
    pool_tokens = [ref_tokenize(t) for t in pool_texts]
    for query in variants(60, seed=6) + mixes(60, seed=7):
        q = ref_tokenize(query)
        expected = [reference._score_lcs(q, p).fmeasure for p in pool_tokens]
        for avg in (False, True):
            result = pool.check(query, avg=avg)
            assert result.max_score == max(expected)
            assert result.novel is not (max(expected) > 0.7)
            # Top 10: best first, ties by pool order, zero scores left out.
            ranked = sorted(range(len(expected)), key=lambda i: (-expected[i], i))[:10]
            assert result.top == [
                Match(i, pool_texts[i], expected[i]) for i in ranked if expected[i] > 0
            ]
            if avg:
                assert result.avg_score == float(np.mean(expected))
            else:
                assert result.avg_score is None
    assert len(pool) == len(pool_texts)  # check never adds


def naive_filter(reference, texts: list[str], pool_texts: list[str]) -> list[bool]:
    """The Self-Instruct / Alpaca loop, with rouge_score."""
    ref_tokenize = reference.RougeScorer(["rougeL"], use_stemmer=False)._tokenizer.tokenize
    pool_tokens = [ref_tokenize(t) for t in pool_texts]
    kept = []
    for text in texts:
        tokens = ref_tokenize(text)
        scores = [reference._score_lcs(tokens, p).fmeasure for p in pool_tokens]
        novel = not scores or max(scores) <= 0.7
        if novel:
            pool_tokens.append(tokens)
        kept.append(novel)
    return kept


def test_pool_simulation_matches_the_naive_loop(reference):
    rng = random.Random(11)
    texts = variants(350, seed=12) + mixes(200, seed=13) + SEEDS[:20]
    rng.shuffle(texts)
    expected = naive_filter(reference, texts, SEEDS)
    assert 100 < sum(expected) < len(texts) - 100  # both kinds of decisions occur
    # The only non-ASCII characters in the seeds are quote marks, which both tokenizers treat
    # as separators: the default tokenizer must decide exactly like the reference too.
    for tokenizer in ("rouge", "unicode"):
        pool = NoveltyPool(SEEDS, tokenizer=tokenizer)
        kept = [pool.check_and_add(t).novel for t in texts]
        assert kept == expected
        assert len(pool) == len(SEEDS) + sum(kept)


def test_pool_without_seeds_and_with_top_k_zero(reference):
    texts = SEEDS[:40] + variants(200, seed=21)
    expected = naive_filter(reference, texts, [])
    pool = NoveltyPool(tokenizer="rouge", top_k=0)
    results = [pool.check_and_add(t) for t in texts]
    assert [r.novel for r in results] == expected
    assert all(r.top == [] for r in results)


# ---- behaviour -------------------------------------------------------------------------------


def test_chinese_duplicates_need_the_unicode_tokenizer():
    text = "写一首关于秋天的诗。"
    pool = NoveltyPool([text])
    result = pool.check(text)
    assert (result.novel, result.max_score) == (False, 1.0)
    assert result.top == [Match(0, text, 1.0)]
    assert pool.check("写一首关于春天的诗").max_score == pytest.approx(8 / 9)
    rouge_pool = NoveltyPool([text], tokenizer="rouge")
    assert rouge_pool.check(text) == rouge_pool.check("anything")  # no tokens: scores 0
    assert rouge_pool.check(text).novel is True
    assert rouge_pool.check(text).max_score == 0.0


def test_greek_and_accented_text():
    pool = NoveltyPool(
        ["Γράψε ένα ποίημα για τη θάλασσα.", "Écris un poème sur la mer, s'il te plaît."]
    )
    assert pool.check("ΓΡΆΨΕ ΈΝΑ ΠΟΊΗΜΑ ΓΙΑ ΤΗ ΘΆΛΑΣΣΑ").max_score == 1.0
    result = pool.check("Écris un poème sur la montagne, s'il te plaît.")
    assert result.top[0].index == 1
    assert result.max_score == pytest.approx(0.9)  # 9 of 10 tokens in order
    assert result.novel is False
    # The rouge tokenizer cuts accented words: "cris un po me" against "ecris un poeme".
    rouge_pool = NoveltyPool(["Écris un poème"], tokenizer="rouge")
    assert rouge_pool.check("Ecris un poeme").max_score == pytest.approx(2 * 1 / 7)


def test_check_and_add_only_adds_novel_texts():
    pool = NoveltyPool(["Write a poem about the sea."])
    first = pool.check_and_add("Write a poem about the sea!")
    assert (first.novel, first.max_score, len(pool)) == (False, 1.0, 1)
    second = pool.check_and_add("List three prime numbers.")
    assert (second.novel, second.max_score, len(pool)) == (True, 0.0, 2)
    assert pool.texts == ["Write a poem about the sea.", "List three prime numbers."]
    assert pool.add("Write a poem about the sea.") == 2  # add is unconditional
    assert [m.index for m in pool.check("write a poem about the sea").top] == [0, 2]


def test_empty_text_and_empty_pool():
    assert NoveltyPool().check("Anything at all") == NoveltyPool().check("")
    result = NoveltyPool().check("Anything", avg=True)
    assert (result.novel, result.max_score, result.top, result.avg_score) == (True, 0.0, [], 0.0)
    pool = NoveltyPool(["Some text"])
    assert pool.check("...").novel is True
    assert pool.check("unseen words only").max_score == 0.0


def test_threshold_is_strict_and_configurable():
    pool = NoveltyPool(["a b c d e f g h i j"], threshold=0.5)
    assert pool.check("a b c d e k l m n o").novel is True  # exactly 0.5 is not above 0.5
    assert pool.check("a b c d e f l m n o").novel is False


def test_token_ids_beyond_unicode_still_compare_exactly():
    class HugeVocab(dict):
        def __len__(self):  # new ids start past the last code point
            return dict.__len__(self) + 0x110000

    pool = NoveltyPool(top_k=3)
    pool._vocab = HugeVocab()
    texts = ["alpha beta gamma delta", "beta alpha gamma delta", "alpha gamma beta epsilon"]
    for text in texts:
        pool.add(text)
    assert isinstance(pool._seqs[0], list)
    result = pool.check("alpha beta gamma epsilon delta")
    assert [(m.index, m.score) for m in result.top] == [
        (0, rouge_l("alpha beta gamma epsilon delta", texts[0])),
        (1, rouge_l("alpha beta gamma epsilon delta", texts[1])),
        (2, rouge_l("alpha beta gamma epsilon delta", texts[2])),
    ]
    assert [m.score for m in result.top] == pytest.approx([8 / 9, 6 / 9, 6 / 9])


@pytest.mark.parametrize("top_k", [1, 10, 50])
def test_pruned_search_equals_brute_force_on_a_larger_pool(top_k):
    """The bound-based pruning against scoring every entry, on a pool full of near-ties."""
    pool_texts = variants(2500, seed=31) + mixes(500, seed=32)
    pool = NoveltyPool(pool_texts, tokenizer="rouge", top_k=top_k)
    tokens = [rouge_tokenize(t) for t in pool_texts]
    for query in variants(40, seed=33) + mixes(40, seed=34) + ["the a of to", "Write a"]:
        q = rouge_tokenize(query)
        expected = [rouge_l(q, p) for p in tokens]
        ranked = sorted(range(len(expected)), key=lambda i: (-expected[i], i))[:top_k]
        result = pool.check(query)
        assert result.max_score == max(expected)
        assert result.novel is not (max(expected) > 0.7)
        assert [(m.index, m.score) for m in result.top] == [
            (i, expected[i]) for i in ranked if expected[i] > 0
        ]
