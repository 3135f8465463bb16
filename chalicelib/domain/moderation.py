"""The sensitive-word engine: Aho-Corasick over a versioned lexicon (DOMAIN.md §6).

A lexicon is a list of entries (word, category, verdict, suggestion). ``Matcher`` compiles it
once into one automaton over the words' normalised forms (textnorm.py); a check normalises the
text, runs the automaton over it once (time linear in the text, whatever the lexicon's size),
maps each hit back to its span in the original text and decides. (A text with a right-to-left
override is read a second time, in display order: textnorm.visual_order. A hanzi phrase whose
pinyin spelling is also a word of the lexicon matches every mix of the two, 躺zhuan and tang赚:
pinyin.py.)

* ``block`` if any hit is a block word, else ``review`` if any is a review word, else ``pass``;
* hits inside an ``allow`` phrase (第一次, 最好在) do not count;
* ``suggested_text``: each hit replaced by its suggestion (躺赚 → 分享奖励); a block word
  without one is removed; a review word without one is kept.

``check_text`` keeps the old entry point: the default lexicon (lexicon_default.py). Pure: the
stored lexicon versions and WeChat's second stage live in services/moderation.py.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from itertools import accumulate
from typing import Any

from chalicelib.domain.errors import InvalidLexicon, TextTooLong
from chalicelib.domain.invariants import InvariantBroken
from chalicelib.domain.lexicon_default import DEFAULT_ENTRIES
from chalicelib.domain.pinyin import is_pinyin, mixed_forms, speller
from chalicelib.domain.textnorm import compact, fold, normalise_word, origins, unit_end, visual_order

MAX_CHECK_CHARS = 5_000  # POST /v1/moderation/check
MAX_TITLE_CHARS = 60  # material titles
MAX_MATERIAL_CHARS = 2_000  # material text
MAX_ENTRIES = 20_000
MAX_WORD_CHARS = 32
MAX_SUGGESTION_CHARS = 32
MAX_MIXED_PATTERNS = 50_000  # hanzi/pinyin mixes per lexicon (a 4-character phrase has 14), bounding the build
MAX_HITS_SHOWN = 100  # the verdict counts every hit; answers list the first hundred
# msgSecCheck scenes: 1 profile (资料: shop names), 2 comment, 3 forum, 4 social log (社交日志: materials, copy)
SCENE_PROFILE = 1
SCENE_SOCIAL = 4
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# Words split into look-alike components to dodge filters (赚 → 贝兼) are matched as variants.
SPLIT_FORMS = {"赚": ("贝兼",), "躺": ("身尚",), "赞": ("先先贝",)}


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 -- a verdict, not a password
    REVIEW = "review"
    BLOCK = "block"


_SEVERITY = {Verdict.PASS: 0, Verdict.REVIEW: 1, Verdict.BLOCK: 2}

# WeChat msgSecCheck v2 ``result.suggest`` → our verdict.
WECHAT_VERDICT = {"pass": Verdict.PASS, "review": Verdict.REVIEW, "risky": Verdict.BLOCK}


def worst(*verdicts: Verdict) -> Verdict:
    return max(verdicts, key=_SEVERITY.__getitem__, default=Verdict.PASS)


@dataclass(frozen=True)
class Entry:
    word: str
    category: str
    verdict: str  # "block" | "review" | "allow"
    suggestion: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"word": self.word, "category": self.category, "verdict": self.verdict, "suggestion": self.suggestion}


@dataclass(frozen=True)
class Hit:
    word: str  # the lexicon's word
    start: int  # span in the original text, in Unicode code points
    end: int
    category: str
    suggestion: str | None = None
    verdict: Verdict = Verdict.BLOCK
    matched: str = ""  # the original text of the span (躺 * 赚)

    def as_dict(self) -> dict[str, object]:
        return {"word": self.word, "start": self.start, "end": self.end, "category": self.category,
                "suggestion": self.suggestion, "verdict": self.verdict.value, "matched": self.matched}


@dataclass(frozen=True)
class Moderation:
    verdict: Verdict
    hits: tuple[Hit, ...] = ()
    suggested_text: str = ""


def check_length(text: str, limit: int, field: str = "text") -> None:
    if len(text) > limit:
        raise TextTooLong(f"{field} is over {limit} characters", field=field, max_chars=limit, chars=len(text))


def parse_entries(rows: Iterable[Mapping[str, Any]]) -> tuple[Entry, ...]:
    """Validated entries; InvalidLexicon names the first bad one (and its index)."""
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        entry = _entry(index, row)
        key = normalise_word(entry.word)
        if key in seen:
            raise InvalidLexicon(f"entry {index}: {entry.word!r} duplicates entry {seen[key]}", index=index)
        seen[key] = index
        entries.append(entry)
    if len(entries) > MAX_ENTRIES:
        raise InvalidLexicon(f"a lexicon holds at most {MAX_ENTRIES} entries", max_entries=MAX_ENTRIES)
    return tuple(entries)


def _entry(index: int, row: Mapping[str, Any]) -> Entry:
    word, category, verdict, suggestion = (row.get(k) for k in ("word", "category", "verdict", "suggestion"))
    problem = None
    if not isinstance(word, str) or not normalise_word(word) or len(word) > MAX_WORD_CHARS:
        problem = f"word must have 1 to {MAX_WORD_CHARS} characters, with a letter or digit"
    elif not isinstance(category, str) or not CATEGORY.match(category):
        problem = "category must be lower_snake_case"
    elif verdict not in ("block", "review", "allow"):
        problem = "verdict must be block, review or allow"
    elif suggestion is not None and (not isinstance(suggestion, str) or len(suggestion) > MAX_SUGGESTION_CHARS):
        problem = f"suggestion must be a text of at most {MAX_SUGGESTION_CHARS} characters"
    if problem:
        raise InvalidLexicon(f"entry {index}: {problem}", index=index)
    if not (isinstance(word, str) and isinstance(category, str) and isinstance(verdict, str)):
        raise InvariantBroken("a checked lexicon entry holds texts")
    return Entry(word, category, verdict, suggestion or None)


def default_entries() -> tuple[Entry, ...]:
    return tuple(Entry(w, c, v, s) for w, c, v, s in DEFAULT_ENTRIES)


def _variants(key: str) -> list[str]:
    forms = [key]
    for char, splits in SPLIT_FORMS.items():
        if char in key:
            forms += [form.replace(char, split) for form in forms for split in splits]
    return forms[:8]


def _mixed_pinyin(entries: tuple[Entry, ...], keys: list[str]) -> dict[int, list[str]]:
    """For each block or review phrase whose pinyin spelling is also a word of the lexicon
    (躺赚 and tangzhuan): its spellings mixing hanzi and pinyin (躺zhuan, tang赚), by entry index."""
    spellings = {key for key in keys if is_pinyin(key)}
    if not spellings:
        return {}
    spell = speller(frozenset(spellings)).spelling
    mixed, total = {}, 0
    for index, (entry, key) in enumerate(zip(entries, keys, strict=True)):
        if entry.verdict != "allow" and total < MAX_MIXED_PATTERNS and (syllables := spell(key)) is not None:
            mixed[index] = mixed_forms(key, syllables)
            total += len(mixed[index])
    return mixed


def _bytes(text: str) -> str:
    """The automaton runs over UTF-8 bytes (one latin-1 character each): a node then has at most
    64-256 children, so a step costs the same whatever the lexicon's size. (Over whole CJK
    characters the root of a 10,000-word lexicon has thousands of children, scanned linearly by
    pyahocorasick on every character: checks slowed tenfold with the lexicon.) UTF-8 is
    self-synchronising, so every match starts and ends on a character boundary."""
    return text.encode("utf-8").decode("latin-1")


def _char_offsets(data: str, offsets: Iterable[int]) -> dict[int, int]:
    """Byte offsets of ``data`` (see ``_bytes``) → character offsets, in one pass."""
    result, previous, chars = {}, 0, 0
    for offset in sorted(set(offsets)):
        chars += len(data[previous:offset].encode("latin-1").decode("utf-8"))
        result[offset], previous = chars, offset
    return result


class Matcher:
    """One compiled lexicon version. Build once, check many times (thread-safe for reading)."""

    def __init__(self, entries: Iterable[Entry], version: int = 1) -> None:
        import ahocorasick

        self.version = version
        self.entries = tuple(entries)
        self._automaton = ahocorasick.Automaton()
        keys = [normalise_word(entry.word) for entry in self.entries]
        mixed = _mixed_pinyin(self.entries, keys)
        for index, key in enumerate(keys):
            forms = [(form, False) for form in _variants(key)]
            forms += [(form, form[0].isascii()) for form in mixed.get(index, [])]
            for form, latin_start in forms:
                if (data := _bytes(form)) not in self._automaton:
                    self._automaton.add_word(data, (index, len(data), latin_start))
        if len(self._automaton):
            self._automaton.make_automaton()

    def check(self, text: str) -> Moderation:
        hits = self.hits(text)
        verdict = worst(*(h.verdict for h in hits))
        return Moderation(verdict, hits[:MAX_HITS_SHOWN], self.suggest(text, hits) if hits else text)

    def hits(self, text: str) -> tuple[Hit, ...]:
        if not len(self._automaton):
            return ()
        folded = fold(text)
        hits = set(self._view_hits(text, folded, None))
        if (order := visual_order(text)) is not None:  # a right-to-left override: also as displayed
            hits.update(self._view_hits(text, "".join(folded[i] for i in order), order))
        return tuple(sorted(hits, key=lambda h: (h.start, -h.end, h.word)))

    def _view_hits(self, text: str, folded: str, order: list[int] | None) -> list[Hit]:
        """Hits over one reading of the text: ``folded`` in logical order (``order`` None) or
        in the display order ``order`` (position in ``folded`` → index in ``text``)."""
        data = _bytes(compact(folded))
        raw = [(last + 1 - length, last + 1, index) for last, (index, length, latin_start) in self._automaton.iter(data)
               if not (latin_start and _inside_latin_word(data, last + 1 - length))]
        if not raw:
            return []
        origin = origins(folded)
        if order is not None:
            origin = [order[i] for i in origin]
        chars = _char_offsets(data, (o for start, end, _ in raw for o in (start, end)))
        found = [(chars[start], chars[end], self.entries[index]) for start, end, index in raw]
        allowed = _allowed(found)
        hits = []
        for start, end, entry in found:
            if entry.verdict == "allow" or allowed(start, end):
                continue
            if order is None:
                o_start, o_end = origin[start], origin[end - 1] + 1
            else:
                o_start, o_end = min(origin[start:end]), max(origin[start:end]) + 1
            o_end = unit_end(text, o_end)
            hits.append(Hit(entry.word, o_start, o_end, entry.category, entry.suggestion, Verdict(entry.verdict),
                            text[o_start:o_end]))
        return hits

    def suggest(self, text: str, hits: tuple[Hit, ...], rounds: int = 3) -> str:
        """The text with every hit's suggestion applied (re-checked: a replacement may expose
        another hit; at most ``rounds`` passes)."""
        for _ in range(rounds):
            replaced = _apply(text, hits)
            if replaced == text:
                break
            text, hits = replaced, self.hits(replaced)
        return text


def _inside_latin_word(data: str, start: int) -> bool:
    """Whether the byte before ``start`` is an ASCII letter: a mixed form that starts in pinyin
    (gen治 of 根治) must not start inside a Latin word (collagen治疗)."""
    return start > 0 and data[start - 1].isascii() and data[start - 1].isalpha()


def _allowed(found: list[tuple[int, int, Entry]]) -> Callable[[int, int], bool]:
    """Whether a span lies inside an allowed phrase: allowed spans sorted by start, with the
    furthest end reached so far; one binary search per hit."""
    spans = sorted((start, end) for start, end, entry in found if entry.verdict == "allow")
    starts = [start for start, _ in spans]
    reach = list(accumulate((end for _, end in spans), max))

    def inside(start: int, end: int) -> bool:
        i = bisect_right(starts, start) - 1
        return i >= 0 and reach[i] >= end

    return inside


def _apply(text: str, hits: Iterable[Hit]) -> str:
    parts, cursor = [], 0
    for hit in hits:  # sorted by start, longest first: the longest of overlapping hits wins
        if hit.start < cursor:
            continue
        replacement = hit.suggestion if hit.suggestion is not None else (
            "" if hit.verdict is Verdict.BLOCK else None)
        if replacement is None:
            continue
        parts += [text[cursor:hit.start], replacement]
        cursor = hit.end
    return "".join(parts) + text[cursor:] if parts else text


@cache
def default_matcher() -> Matcher:
    return Matcher(default_entries(), version=1)


def check_text(text: str) -> Moderation:
    """Check a text against the default lexicon (the stored current version: services/moderation.py)."""
    return default_matcher().check(text)


def with_second_stage(result: Moderation, wechat_suggest: str | None) -> Moderation:
    """Combine our verdict with WeChat's ``suggest`` (pass / review / risky)."""
    if wechat_suggest is None:
        return result
    verdict = worst(result.verdict, WECHAT_VERDICT.get(wechat_suggest, Verdict.REVIEW))
    return Moderation(verdict, result.hits, result.suggested_text)
