"""Generate the disguise corpus (disguises.jsonl): forbidden phrases hidden by each evasion class.

Every line is one JSON object: ``class``, ``words`` (the lexicon words a catch may name: the
phrase and its pinyin spelling), ``start``/``end`` (the disguised phrase's span in ``text``, in
code points: the matcher must report exactly it) and ``text`` (the phrase inside an innocent
carrier sentence). Seeded, so the file is reproducible; characters that do not print are
written as JSON escapes so the file can be read and diffed.

    .venv/bin/python tests/unit/data/gen_disguises.py     # rewrites disguises.jsonl
"""
from __future__ import annotations

import json
import random
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from chalicelib.domain.lexicon_default import DEFAULT_ENTRIES

OUT = Path(__file__).with_name("disguises.jsonl")
CARRIERS = ("加入我们，{}！", "{}的机会来了", "宝妈在家也能{}", "本店承诺{}。", "{}", "快来看看：{}，名额有限")

# hanzi phrases of the lexicon with their pinyin spelling (the lexicon holds both)
PINYIN = {
    "躺赚": "tang zhuan", "稳赚": "wen zhuan", "稳赚不赔": "wen zhuan bu pei", "躺着赚钱": "tang zhe zhuan qian",
    "月入百万": "yue ru bai wan", "月入十万": "yue ru shi wan", "月入过万": "yue ru guo wan",
    "日入千元": "ri ru qian yuan", "一夜暴富": "yi ye bao fu", "拉人头": "la ren tou", "人头费": "ren tou fei",
    "发展下线": "fa zhan xia xian", "拉下线": "la xia xian", "入门费": "ru men fei", "集赞": "ji zan",
    "根治": "gen zhi", "包治百病": "bao zhi bai bing",
}
HANZI = [w for w, _, verdict, _ in DEFAULT_ENTRIES
         if verdict == "block" and all(unicodedata.name(c, "").startswith("CJK UNIFIED") for c in w)]

ASTRAL_INVISIBLE = ([*range(0xE0100, 0xE01F0), *range(0x1BCA0, 0x1BCA4), *range(0x1D173, 0x1D17B),
                     *range(0x13430, 0x13439), 0xE0001, *range(0xE0020, 0xE0080)])
BMP_INVISIBLE = [*range(0x200B, 0x2010), *range(0x2060, 0x2065), 0xFEFF, 0x00AD, 0x034F, 0x180E, 0x3164, 0xFFA0,
                 0x115F, 0x1160, *range(0xFE00, 0xFE10), 0x061C, 0x17B4, 0x180B]
BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
TAGS = (("<b>", "</b>"), ("<i>", "</i>"), ('<span style="color:red">', "</span>"), ("<br>", ""), ("<br/>", ""),
        ("<!-- x -->", ""), ('<font color="#f00">', "</font>"), ('<a href="https://e.com/?a=1&b=2">', "</a>"),
        ("<strong>", "</strong>"), ("<p>", "</p>"), ("<em class='x'>", "</em>"), ("<sup>", "</sup>"))
HOMOGLYPHS = {"a": "аα", "b": "Ьβ", "c": "сϲ", "e": "еε", "h": "һн", "i": "іι", "j": "ј", "k": "кκ", "m": "м",
              "n": "ո", "o": "оο", "p": "рρ", "q": "ԛ", "s": "ѕ", "t": "т", "u": "υս", "v": "ν", "w": "ԝ",
              "x": "хχ", "y": "уγ", "z": "ᴢ"}
HOMOGLYPHS_UPPER = {"A": "АΑ", "B": "ВΒ", "E": "ЕΕ", "H": "НΗ", "I": "ІΙ", "J": "Ј", "K": "КΚ", "M": "МΜ",
                    "N": "Ν", "O": "ОΟ", "P": "РΡ", "S": "Ѕ", "T": "ТΤ", "X": "ХΧ", "Y": "УΥ", "Z": "Ζ"}
MATH_STYLES = ("BOLD", "ITALIC", "BOLD ITALIC", "SCRIPT", "BOLD SCRIPT", "FRAKTUR", "DOUBLE-STRUCK",
               "BOLD FRAKTUR", "SANS-SERIF", "SANS-SERIF BOLD", "SANS-SERIF ITALIC", "MONOSPACE")
INVISIBLE = {*ASTRAL_INVISIBLE, *BMP_INVISIBLE, *BIDI}
TONES = "\u0304\u0301\u030c\u0300"


def small_capital(letter: str) -> str:
    try:
        return unicodedata.lookup(f"LATIN LETTER SMALL CAPITAL {letter.upper()}")
    except KeyError:
        return letter


def math_letter(letter: str, style: str, capital: bool) -> str:
    try:
        return unicodedata.lookup(f"MATHEMATICAL {style} {'CAPITAL' if capital else 'SMALL'} {letter.upper()}")
    except KeyError:
        return letter.upper() if capital else letter


def toned(syllable: str, rng: random.Random, decomposed: bool) -> str:
    """The syllable with a tone mark on its main vowel (a, e, o of ou, else the last vowel)."""
    vowels = [i for i, c in enumerate(syllable) if c in "aeiouü"]
    if not vowels:
        return syllable
    index = next((i for i, c in enumerate(syllable) if c in "ae"), None)
    if index is None:
        index = syllable.index("o") if "ou" in syllable else vowels[-1]
    marked = syllable[:index + 1] + rng.choice(TONES) + syllable[index + 1:]
    return unicodedata.normalize("NFD" if decomposed else "NFC", marked)


def reference(char: str, rng: random.Random) -> str:
    """An HTML character reference to ``char``: decimal or hexadecimal."""
    return f"&#{ord(char)};" if rng.random() < 0.5 else f"&#x{ord(char):x};"


def between(phrase: str, fill: Callable[[], str]) -> str:
    """The phrase with ``fill()`` inserted between each pair of its characters."""
    return phrase[0] + "".join(fill() + c for c in phrase[1:])


def record(rng: random.Random, kind: str, words: tuple[str, ...], disguised: str | tuple[str, str, str],
           ) -> dict[str, object]:
    """``disguised`` is the disguised phrase, or (lead, phrase, trail) when controls or tags
    around it lie outside the span the matcher reports."""
    lead, core, trail = ("", disguised, "") if isinstance(disguised, str) else disguised
    before, after = rng.choice(CARRIERS).split("{}")
    before += lead
    return {"class": kind, "words": list(words), "start": len(before), "end": len(before) + len(core),
            "text": before + core + trail + after}


def hanzi_classes(rng: random.Random) -> Iterator[tuple[str, tuple[str, ...], str | tuple[str, str, str]]]:
    for phrase in HANZI:
        words = (phrase, PINYIN[phrase].replace(" ", "")) if phrase in PINYIN else (phrase,)
        for _ in range(4):
            yield "invisible_astral", words, between(phrase, lambda: chr(rng.choice(ASTRAL_INVISIBLE)))
        for _ in range(2):
            yield "invisible_bmp", words, between(phrase, lambda: chr(rng.choice(BMP_INVISIBLE)))
        for _ in range(3):
            yield "bidi_controls", words, between(phrase, lambda: chr(rng.choice(BIDI)))
        yield "bidi_reversed", words, ("\u202e", phrase[::-1], "\u202c")
        yield "bidi_reversed", words, ("\u2067\u202e", phrase[::-1], "\u202c\u2069")
        for _ in range(4):
            opening, closing = rng.choice(TAGS)
            cut = rng.randrange(1, len(phrase))
            if closing and rng.random() < 0.5:  # <b>赚</b> around the end of the phrase
                yield "html_tags", words, ("", phrase[:cut] + opening + phrase[cut:], closing)
            else:
                yield "html_tags", words, phrase[:cut] + closing + opening + phrase[cut:]
        for _ in range(2):
            yield "html_entities", words, "".join(reference(c, rng) if rng.random() < 0.6 else c for c in phrase)
        yield "html_entities", words, between(phrase, lambda: rng.choice(("&nbsp;", "&zwnj;", "&ZeroWidthSpace;",
                                                                          "&shy;", "&#8203;", "&#x200d;")))


def pinyin_classes(rng: random.Random) -> Iterator[tuple[str, tuple[str, ...], str | tuple[str, str, str]]]:
    for phrase, spelled in PINYIN.items():
        syllables, words = spelled.split(), (phrase, spelled.replace(" ", ""))
        for i in range(8):
            parts = [toned(s, rng, decomposed=i % 2 == 1) for s in syllables]
            if i % 4 == 2:
                parts = [p.capitalize() for p in parts]
            yield "pinyin_tones", words, (" " if i < 4 else "").join(parts)
        for mask in range(1, 2 ** len(phrase) - 1):
            parts = [toned(s, rng, rng.random() < 0.3) if rng.random() < 0.5 else s for s in syllables]
            yield "pinyin_mixed", words, "".join(parts[i] if mask >> i & 1 else c for i, c in enumerate(phrase))
        letters = "".join(syllables)
        yield "small_capitals", words, "".join(map(small_capital, letters))
        yield "small_capitals", words, " ".join("".join(map(small_capital, s)) for s in syllables)
        yield "small_capitals", words, "".join(small_capital(c) if rng.random() < 0.5 else c for c in letters)
        for _ in range(3):
            yield "homoglyphs", words, "".join(rng.choice(HOMOGLYPHS[c]) if c in HOMOGLYPHS and rng.random() < 0.6
                                               else c for c in letters)
        upper = letters.upper()
        yield "homoglyphs", words, "".join(rng.choice(HOMOGLYPHS_UPPER[c]) if c in HOMOGLYPHS_UPPER else c
                                           for c in upper)
        yield "fullwidth", words, "".join(chr(ord(c) + 0xFEE0) for c in letters)
        yield "fullwidth", words, " ".join("".join(chr(ord(c) + 0xFEE0) for c in s.upper()) for s in syllables)
        for style in MATH_STYLES:
            capital = rng.random() < 0.3
            yield "math_alphanumerics", words, "".join(math_letter(c, style, capital) for c in letters)


def combined(rng: random.Random) -> Iterator[tuple[str, tuple[str, ...], str | tuple[str, str, str]]]:
    """Several disguises at once: mixed pinyin with tone marks, invisible marks and tags."""
    for phrase, spelled in PINYIN.items():
        syllables, words = spelled.split(), (phrase, spelled.replace(" ", ""))
        for _ in range(3):
            mask = rng.randrange(1, 2 ** len(phrase) - 1)
            parts = [toned(s, rng, False) if mask >> i & 1 else c for i, (s, c) in enumerate(zip(syllables, phrase,
                                                                                                 strict=True))]
            joiner = rng.choice(("\U000E0101", "\u200b", "<b></b>", "\u2066\u2069", "\U0001D175", "\u3164"))
            yield "combined", words, joiner.join(parts)


def generate(seed: int = 13) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [record(rng, kind, words, disguised)
            for source in (hanzi_classes, pinyin_classes, combined) for kind, words, disguised in source(rng)]


def escape(line: str) -> str:
    """JSON with every character that does not print as a \\u escape (UTF-16 pairs beyond the BMP)."""
    out = []
    for char in line:
        if char.isprintable() and unicodedata.category(char)[0] != "M" and ord(char) not in INVISIBLE:
            out.append(char)
        else:
            out.extend(f"\\u{unit:04x}" for unit in _utf16(char))
    return "".join(out)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


if __name__ == "__main__":
    rows = generate()
    OUT.write_text("".join(escape(json.dumps(row, ensure_ascii=False)) + "\n" for row in rows), encoding="utf-8")
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["class"])] = counts.get(str(row["class"]), 0) + 1
    print(len(rows), counts)
