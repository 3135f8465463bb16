"""Text normalisation for the sensitive-word matcher, with a map back to the original text.

Evasions the matcher must see through, each undone by a one-character-to-one-character fold,
so that position ``i`` of the normalised text always comes from exactly one position of the
original:

* invisible characters: every Default_Ignorable_Code_Point and every format character
  (General_Category Cf), in any plane (zero-width spaces, bidirectional controls, variation
  selectors, Hangul fillers, tags, shorthand, musical and hieroglyph format controls), from
  Unicode's own data (``textnorm_tables.IGNORABLE``);
* full-width and other compatibility forms (ＴＡＮＧ, ⼈ Kangxi radicals, 𝐭 maths letters,
  ① circled digits): their NFKC form where that is a single character;
* tone marks and other diacritics on Latin letters (tǎng zhuàn): NFD, combining marks dropped;
* Latin look-alikes: letters and digits that UTS #39 confusables.txt draws like one ASCII letter
  or digit (Cyrillic а, Greek ο, Cherokee Ꭺ ...) and the small capitals (ᴀʙᴄ), generated from
  Unicode's data; never a Han, kana, Hangul, Bopomofo or Yi character;
* case: Latin capitals to small letters;
* traditional characters to simplified ones (穩賺不賠 → 稳赚不赔), for the characters of the
  lexicon's words (``TRADITIONAL``); a few look-alikes confusables.txt does not list (Cyrillic
  к, Greek κ drawn like k; 佰 → 百, 垃 → 拉);
* separators inserted between characters (躺 赚, 躺*赚, emoji): every character that is not a
  letter or a digit is dropped from the matched text, and so is every HTML tag (躺<b>赚</b>);
* HTML character references (躺&#36186;, 躺&#x8d5a;): read as the character they stand for;
* right-to-left overrides, which display the characters they enclose in reverse order
  (U+202E 赚躺 U+202C shows 躺赚): ``visual_order`` gives that order, read as a second view.

``normalise`` returns the matched text and, for each of its characters, the index of the
original character it came from. Pure: no I/O; the table is built once, on first use.
"""
from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from functools import cache, lru_cache
from itertools import compress

from chalicelib.domain.textnorm_tables import IGNORABLE, LATIN_FOLD_FROM, LATIN_FOLD_TO

SEPARATOR = "\x00"  # stands for a dropped character until the compaction step

# Traditional → simplified, for the characters of the lexicon's words (and their neighbours).
TRADITIONAL = dict(zip(
    "賺穩賠萬頭發髮線門費轉領讚贊網國級藥純無彈傳見實財務動錢層計團隊會員進鬥還讓後單風險個這贏億過說給搶點減療癒強極獨頂時間"
    "盤資幣內際條帶報產業歲麼兒對絕證權廣銷獲誠優額參與氣禮勞創戶總裝經夠種讀紅",
    "赚稳赔万头发发线门费转领赞赞网国级药纯无弹传见实财务动钱层计团队会员进斗还让后单风险个这赢亿过说给抢点减疗愈强极独顶时间"
    "盘资币内际条带报产业岁么儿对绝证权广销获诚优额参与气礼劳创户总装经够种读红",
    strict=True))

HOMOGLYPHS = {
    # Cyrillic and Greek small letters drawn like a Latin small capital or italic, absent from
    # confusables.txt (whose Latin look-alikes come from textnorm_tables)
    **dict(zip("вкмнтβεζηκμτχ", "bkmhtbezhkmtx", strict=True)),
    # financial numerals and look-alike characters
    "佰": "百", "仟": "千", "贰": "二", "壹": "一", "〇": "零",
    "垃": "拉", "淌": "躺", "趟": "躺", "嫌": "赚", "尐": "少",
}
LATIN_FOLD = dict(zip(LATIN_FOLD_FROM, LATIN_FOLD_TO, strict=True))
OVERRIDES = {**TRADITIONAL, **HOMOGLYPHS}

_IGNORABLE_STARTS = [start for start, _ in IGNORABLE]
# Ideographs and Hangul syllables: letters that fold to themselves (but for OVERRIDES).
_PLAIN = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xAC00, 0xD7A4)]
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# An HTML tag (ASCII only: a tag cannot hide a CJK word) or comment, dropped like a separator.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}(?:[\s/][ -;=?-~\s]{0,200})?>|<!--[ -~\s]{0,200}?-->")
# An HTML character reference (&#36186; &#x8d5a; &nbsp;): read as the character it stands for.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
RLO, PDF = "\u202e", "\u202c"
_PUSH = "\u202a\u202b\u202d\u202e"  # LRE, RLE, LRO, RLO: each closed by a PDF
_PARAGRAPH_END = "\n\r\u2029"


def ignorable(code: int) -> bool:
    """Default_Ignorable_Code_Point or General_Category Cf (Unicode's data, any plane)."""
    i = bisect_right(_IGNORABLE_STARTS, code) - 1
    return i >= 0 and code <= IGNORABLE[i][1]


def _strip_marks(char: str) -> str:
    """A Latin letter with diacritics (ǎ, ü, Ǘ) → its base letter; anything else unchanged."""
    if char.isascii():
        return char
    decomposed = unicodedata.normalize("NFD", char)
    base = decomposed[0]
    if base.isascii() and base.isalpha() and all(unicodedata.combining(c) for c in decomposed[1:]):
        return base
    return char


def fold_char(code: int) -> str:
    """The normalised form of one code point: one character, or SEPARATOR when dropped."""
    if ignorable(code):
        return SEPARATOR
    char = chr(code)
    folded = unicodedata.normalize("NFKC", char)
    folded = _strip_marks(folded if len(folded) == 1 else char)
    folded = OVERRIDES.get(folded, LATIN_FOLD.get(folded, folded))
    if folded.isascii():
        folded = folded.lower()
    return folded if unicodedata.category(folded)[0] in "LN" else SEPARATOR


def _folded_codes() -> list[range]:
    """The BMP without the _PLAIN blocks."""
    edges = [0, *(e for span in _PLAIN for e in span), 0x10000]
    return [range(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


@cache
def table() -> dict[int, str]:
    """The translation table of the Basic Multilingual Plane (built on first use, ~30k code
    points folded, a few tens of ms); other planes fold through ``fold_char``, cached."""
    mapping: dict[int, str] = {}
    for codes in _folded_codes():
        for code in codes:
            folded = fold_char(code)
            if folded != chr(code):
                mapping[code] = folded
    for source, target in OVERRIDES.items():
        mapping[ord(source)] = target
    return mapping


_fold_cached = lru_cache(maxsize=4096)(fold_char)  # beyond the BMP, and character references


def fold(text: str) -> str:
    """The normalised form, same length as ``text``; dropped characters become SEPARATOR."""
    folded = text.translate(table())
    astral = text and max(text) > "\uffff"
    tagged = "<" in text and _TAG.search(text)
    entities = "&" in text and _ENTITY.search(text)
    if not astral and not tagged and not entities:
        return folded
    chars = list(folded)
    if astral:
        for match in _ASTRAL.finditer(text):
            chars[match.start()] = _fold_cached(ord(match.group()))
    if entities:  # the character referred to in the reference's first position, the rest dropped
        for match in _ENTITY.finditer(text):
            if len(char := html.unescape(match.group())) == 1:
                chars[match.start():match.end()] = _fold_cached(ord(char)) + SEPARATOR * (match.end() - match.start() - 1)
    if tagged:
        for match in _TAG.finditer(text):
            chars[match.start():match.end()] = SEPARATOR * (match.end() - match.start())
    return "".join(chars)


def visual_order(text: str) -> list[int] | None:
    """The indices of ``text`` in the order a right-to-left override displays them (the
    characters between U+202E and its U+202C, or the paragraph's end, reversed), or None when
    the text has no override. (UAX #9 simplified: nested embeddings are reversed with it.)"""
    if RLO not in text:
        return None
    order = list(range(len(text)))
    start = text.find(RLO)
    while start >= 0:
        depth, end = 1, start + 1
        while end < len(text) and text[end] not in _PARAGRAPH_END:
            depth += text[end] in _PUSH
            depth -= text[end] == PDF
            if depth == 0:
                break
            end += 1
        order[start + 1:end] = order[end - 1:start:-1]
        start = text.find(RLO, end)
    return order


def unit_end(text: str, end: int) -> int:
    """The end of a hit's span in ``text``, taking the whole of an HTML character reference it
    ends on (&#36186;) and the combining marks written on its last letter (zhuan with a grave
    accent on the a), so that replacing the span leaves nothing stray."""
    if end and text[end - 1] == "&" and (match := _ENTITY.match(text, end - 1)):
        end = match.end()
    while end < len(text) and unicodedata.category(text[end])[0] == "M":
        end += 1
    return end


def compact(folded: str) -> str:
    """The folded text without its dropped characters: what the automaton reads."""
    return folded.replace(SEPARATOR, "") if SEPARATOR in folded else folded


def origins(folded: str) -> list[int]:
    """For each character of ``compact(folded)``, its index in the original text (computed
    only when there is a hit to map back)."""
    if SEPARATOR not in folded:
        return list(range(len(folded)))
    return list(compress(range(len(folded)), map(SEPARATOR.__ne__, folded)))


def normalise(text: str) -> tuple[str, list[int]]:
    """The text the matcher sees, and the original index of each of its characters."""
    folded = fold(text)
    return compact(folded), origins(folded)


def normalise_word(word: str) -> str:
    """A lexicon word in the matcher's form (separators inside a word are dropped too)."""
    return fold(word).replace(SEPARATOR, "")
