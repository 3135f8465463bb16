"""Text normalisation for the sensitive-word matcher, with a map back to the original text.

Evasions the matcher must see through, each undone here by a one-character-to-one-character
translation, so that position ``i`` of the normalised text always comes from exactly one
position of the original:

* full-width and other compatibility forms (ＴＡＮＧ, ⼈ Kangxi radicals, 𝐭 maths letters,
  ① circled digits): their NFKC form where that is a single character;
* case: Latin capitals to small letters;
* traditional characters to simplified ones (穩賺不賠 → 稳赚不赔), for the characters of the
  lexicon's words (``TRADITIONAL``);
* homoglyphs: Cyrillic and Greek letters that look Latin (а, о, ρ ...), financial numerals
  (佰 → 百) and look-alike characters used to dodge filters (垃 → 拉);
* separators inserted between characters (躺 赚, 躺*赚, 躺.赚, emoji, zero-width spaces):
  every character that is not a letter or a digit is dropped from the matched text.

``normalise`` returns the matched text and, for each of its characters, the index of the
original character it came from. Pure: no I/O; the table is built once, on first use.
"""
from __future__ import annotations

import unicodedata
from functools import cache
from itertools import compress

SEPARATOR = "\x00"  # stands for a dropped character until the compaction step

# Traditional → simplified, for the characters of the lexicon's words (and their neighbours).
TRADITIONAL = dict(zip(
    "賺穩賠萬頭發髮線門費轉領讚贊網國級藥純無彈傳見實財務動錢層計團隊會員進鬥還讓後單風險個這贏億過說給搶點減療癒強極獨頂時間"
    "盤資幣內際條帶報產業歲麼兒對絕證權廣銷獲誠優額參與氣禮勞創戶總裝經夠種讀紅",
    "赚稳赔万头发发线门费转领赞赞网国级药纯无弹传见实财务动钱层计团队会员进斗还让后单风险个这赢亿过说给抢点减疗愈强极独顶时间"
    "盘资币内际条带报产业岁么儿对绝证权广销获诚优额参与气礼劳创户总装经够种读红",
    strict=True))

HOMOGLYPHS = {
    # Cyrillic and Greek letters drawn like Latin ones
    **dict(zip("аАвВеЕкКмМнНоОрРсСтТуУхХіІјЈѕЅ", "aabbeekkmmhhooppccttyyxxiijjss", strict=True)),
    **dict(zip("αΑβΒεΕζΖηΗιΙκΚμΜνΝοΟρΡτΤυΥχΧ", "aabbeezzhhiikkmmvnooppttuyxx", strict=True)),
    # financial numerals and look-alike characters
    "佰": "百", "仟": "千", "贰": "二", "壹": "一", "〇": "零",
    "垃": "拉", "淌": "躺", "趟": "躺", "嫌": "赚", "尐": "少",
}


def _nfkc_single(char: str) -> str | None:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 and folded != char else None


# Blocks whose characters are dropped or folded; scanned once to build the table.
_SCANNED = [(0x0000, 0x10000), (0x1D400, 0x1D800), (0x1F000, 0x1FB00), (0xE0000, 0xE0080)]


@cache
def table() -> dict[int, str]:
    """The one translation table (built on first use: ~60k code points, a few tens of ms)."""
    mapping: dict[int, str] = {}
    for start, stop in _SCANNED:
        for code in range(start, stop):
            char = chr(code)
            folded = _nfkc_single(char) or char
            if unicodedata.category(folded)[0] not in "LN":
                mapping[code] = SEPARATOR
            elif folded != char:
                mapping[code] = folded
    for code in range(ord("A"), ord("Z") + 1):
        mapping[code] = chr(code + 32)
    for source, target in {**TRADITIONAL, **HOMOGLYPHS}.items():
        mapping[ord(source)] = target
    # second pass: a folded character may itself need folding (Ａ → A → a, 穩 full-width forms ...)
    for code, target in list(mapping.items()):
        again = mapping.get(ord(target))
        if target != SEPARATOR and again is not None:
            mapping[code] = again
    return mapping


def fold(text: str) -> str:
    """The normalised form, same length as ``text``; dropped characters become SEPARATOR."""
    return text.translate(table())


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
