"""The moderation matcher: build time and checks per second against lexicon size and text length.

Aho-Corasick should cost time linear in the text and (nearly) independent of the lexicon's size
per check, and a build linear in the lexicon. The lexicons are the default one padded with
random CJK words (seeded); the texts are ordinary product copy (tests/unit/data) with a few
evasive hits planted (躺 * 赚), so normalisation, mapping back and suggestions all run. A naive
``str.find`` per word is shown beside it for contrast. In-process, no I/O.

It also scores the matcher on the disguise corpus (tests/unit/data/disguises.jsonl, written by
gen_disguises.py): per disguise class, how many phrases are blocked with their own lexicon word,
and how many with the exact span of the original text; and on the precision corpus (ordinary
copy: every block or review is a false positive). ``python -m bench.moderation --disguises``
prints only that part.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import table

DATA = Path(__file__).resolve().parents[1] / "tests" / "unit" / "data"
CORPUS = DATA / "product_copy.txt"
DISGUISES = DATA / "disguises.jsonl"
LEXICON_SIZES = (1_000, 10_000)
TEXT_LENGTHS = (500, 5_000)
PLANTED = "躺 * 赚"


def lexicon(size: int, seed: int = 6) -> list[Any]:
    from chalicelib.domain.moderation import Entry, default_entries

    rng = random.Random(seed)
    entries = list(default_entries())
    words = {e.word for e in entries}
    while len(entries) < size:
        word = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 4)))
        if word not in words:
            words.add(word)
            entries.append(Entry(word, "synthetic", rng.choice(("block", "review")), None))
    return entries


def text(length: int) -> str:
    sentences = CORPUS.read_text(encoding="utf-8").split()
    out, i = "", 0
    while len(out) < length:
        out += sentences[i % len(sentences)]
        i += 1
        if i % 20 == 0:
            out += PLANTED
    return out[:length]


def _rate(fn: Any, seconds: float) -> float:
    """Calls per second of ``fn``, over at least ``seconds``."""
    fn()
    n, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        fn()
        n += 1
    return n / elapsed


def run(seconds: float = 0.4, builds: int = 5) -> dict[str, Any]:
    from chalicelib.domain.moderation import Matcher
    from chalicelib.domain.textnorm import compact, fold, normalise_word
    from chalicelib.domain.textnorm import table as fold_table

    fold_table()  # built once per process (the translation table), not part of a matcher build
    texts = {n: text(n) for n in TEXT_LENGTHS}
    rows: list[dict[str, Any]] = []
    for size in LEXICON_SIZES:
        entries = lexicon(size)
        times = []
        for _ in range(builds):
            started = time.perf_counter()
            matcher = Matcher(entries, version=2)
            times.append(time.perf_counter() - started)
        keys = [normalise_word(e.word) for e in entries]
        for length, sample in texts.items():
            result = matcher.check(sample)
            norm = compact(fold(sample))
            naive = _rate(lambda n=norm, keys=keys: [n.find(k) for k in keys], seconds / 2)
            per_second = _rate(lambda s=sample, m=matcher: m.check(s), seconds)
            rows.append({"lexicon": size, "build_ms": statistics.median(times) * 1000, "text_chars": length,
                         "checks_per_second": per_second, "us_per_check": 1e6 / per_second,
                         "us_per_1k_chars": 1e6 / per_second / (length / 1000), "hits": len(result.hits),
                         "verdict": result.verdict.value, "naive_checks_per_second": naive})
    return {"rows": rows, "seconds_per_figure": seconds, "builds": builds, "disguises": disguises()}


def disguises() -> dict[str, Any]:
    """Catch rate per disguise class, and the precision corpus's verdicts, with the default lexicon."""
    from chalicelib.domain.moderation import check_text

    rows = [json.loads(line) for line in DISGUISES.read_text(encoding="utf-8").splitlines()]
    total, caught, exact = Counter[str](), Counter[str](), Counter[str]()
    for row in rows:
        result = check_text(row["text"])
        hits = [h for h in result.hits if h.word in row["words"]]
        total[row["class"]] += 1
        if result.verdict.value == "block" and hits:
            caught[row["class"]] += 1
            exact[row["class"]] += any((h.start, h.end) == (row["start"], row["end"]) for h in hits)
    sentences = [s for s in CORPUS.read_text(encoding="utf-8").splitlines() if s.strip()]
    verdicts = Counter(check_text(s).verdict.value for s in sentences)
    return {"classes": {k: {"examples": total[k], "caught": caught[k], "exact_span": exact[k]} for k in total},
            "precision": {"sentences": len(sentences), **verdicts,
                          "joined": check_text("".join(sentences)).verdict.value}}


def disguise_section(results: dict[str, Any]) -> str:
    classes = results["classes"]
    rows = [[name, c["examples"], c["caught"], f"{100 * c['caught'] / c['examples']:.1f}%", c["exact_span"]]
            for name, c in classes.items()]
    examples, caught = sum(c["examples"] for c in classes.values()), sum(c["caught"] for c in classes.values())
    rows.append(["all", examples, caught, f"{100 * caught / examples:.1f}%",
                 sum(c["exact_span"] for c in classes.values())])
    precision = results["precision"]
    return "\n".join([
        "Moderation disguise corpus (default lexicon): blocked with the phrase's own word, and with its exact span",
        table(["disguise class", "examples", "blocked", "catch rate", "exact span"], rows, right=(1, 2, 3, 4)),
        f"  precision corpus: {precision['sentences']} sentences, {precision.get('block', 0)} blocked, "
        f"{precision.get('review', 0)} held for review; all joined in one text: {precision['joined']}",
    ])


def section(results: dict[str, Any]) -> str:
    rows = [[f"{r['lexicon']:,}", f"{r['build_ms']:.1f}", f"{r['text_chars']:,}", f"{r['checks_per_second']:,.0f}",
             f"{r['us_per_check']:,.0f}", f"{r['us_per_1k_chars']:,.0f}", r["hits"],
             f"{r['naive_checks_per_second']:,.1f}"] for r in results["rows"]]
    return "\n".join([
        f"Moderation matcher (Aho-Corasick, pyahocorasick; build = median of {results['builds']}; one thread)",
        table(["lexicon words", "build ms", "text chars", "checks/s", "µs/check", "µs per 1k chars", "hits",
               "naive find() checks/s"], rows, right=(0, 1, 2, 3, 4, 5, 6, 7)),
        "  per check: linear in the text (µs per 1k chars flat), flat in the lexicon; build: linear in the lexicon;",
        "  naive find(): one scan per word, so it falls with the lexicon's size.",
        *(["", disguise_section(results["disguises"])] if "disguises" in results else []),
    ])


if __name__ == "__main__":
    print(disguise_section(disguises()) if "--disguises" in sys.argv else section(run()))
