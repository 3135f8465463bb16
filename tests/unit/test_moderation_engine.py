"""The sensitive-word engine (chalicelib/domain/moderation.py, textnorm.py): normalisation,
positions in the original text, suggestions, overlaps, lexicon validation and precision."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.domain.errors import InvalidLexicon, TextTooLong
from chalicelib.domain.moderation import (
    Entry,
    Matcher,
    Verdict,
    check_length,
    check_text,
    default_entries,
    parse_entries,
    with_second_stage,
)
from chalicelib.domain.textnorm import normalise

CORPUS = Path(__file__).parent / "data" / "product_copy.txt"


# The DOMAIN.md §6 examples, one per category


@pytest.mark.parametrize(("text", "word", "category", "suggestion"), [
    ("加入我们，在家躺赚", "躺赚", "income_promise", "分享奖励"),
    ("跟着我做，月入百万不是梦", "月入百万", "income_promise", "收益因人而异"),
    ("这个项目稳赚不赔", "稳赚不赔", "income_promise", "理性分享"),
    ("多拉人头多拿钱", "拉人头", "pyramid", "邀请好友"),
    ("快来发展下线", "发展下线", "pyramid", "邀请好友"),
    ("先交三千入门费", "入门费", "pyramid", None),
    ("转发才能领取优惠券", "转发才能领", "induced_sharing", "欢迎分享"),
    ("朋友圈集赞38个送面膜", "集赞", "induced_sharing", None),
    ("三天根治脱发", "根治", "false_advertising", "改善"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 6 else None)
def test_each_category_of_forbidden_wording_is_blocked_with_its_category_and_suggestion(text, word, category, suggestion):
    result = check_text(text)
    assert result.verdict is Verdict.BLOCK
    hit = next(h for h in result.hits if h.word == word)
    assert (hit.category, hit.suggestion, text[hit.start:hit.end]) == (category, suggestion, word)


@pytest.mark.parametrize("text", ["最好的选择", "销量第一", "最佳拍档", "顶级品质"])
def test_absolute_advertising_terms_are_held_for_review_not_blocked(text):
    assert check_text(text).verdict is Verdict.REVIEW


# Normalisation: evasions are seen through, positions stay those of the original text


@pytest.mark.parametrize("text", ["躺 赚", "躺*赚", "躺.赚", "躺  ·  赚", "躺\u200b赚", "躺😀赚", "躺\n赚", "躺_赚",
                                  "躺，赚"])
def test_separators_inserted_between_the_characters_do_not_hide_a_word(text):
    result = check_text(f"轻松{text}哦")
    assert result.verdict is Verdict.BLOCK
    (hit,) = result.hits
    assert (hit.word, hit.start, hit.end, hit.matched) == ("躺赚", 2, 2 + len(text), text)


def test_traditional_characters_are_read_as_simplified():
    result = check_text("保證穩賺不賠")
    assert result.verdict is Verdict.BLOCK
    assert [(h.word, h.start, h.end, h.matched) for h in result.hits] == [
        ("稳赚不赔", 2, 6, "穩賺不賠"), ("稳赚", 2, 4, "穩賺")]


@pytest.mark.parametrize("text", ["ＴＡＮＧＺＨＵＡＮ", "TangZhuan", "tang zhuan", "𝐭𝐚𝐧𝐠𝐳𝐡𝐮𝐚𝐧", "tаngzhuаn"],
                         ids=["full-width", "case", "spaced", "maths-letters", "cyrillic-a"])
def test_latin_words_match_through_width_case_and_look_alike_letters(text):
    result = check_text(f"就是{text}!")
    assert result.verdict is Verdict.BLOCK and result.hits[0].word == "tangzhuan"
    assert result.hits[0].matched == text


@pytest.mark.parametrize(("text", "word"), [
    ("多垃人头", "拉人头"),  # 垃 for 拉
    ("躺贝兼", "躺赚"),  # 赚 split into its components
    ("月入佰万", "月入百万"),  # financial numeral
    ("⼊门费", "入门费"),  # Kangxi radical ⼊ for 入
    ("集讚", "集赞"),  # traditional variant
    ("ｊｉ赞", "集赞"),  # half in (full-width) pinyin: the lexicon holds jizan, the spelling of 集赞
    ("ｘｉ赞", None),  # a pinyin half that spells no word of the lexicon: nothing to find
])
def test_common_homoglyph_tricks_are_undone(text, word):
    result = check_text(text)
    if word is None:
        assert result.verdict is Verdict.PASS
    else:
        assert result.verdict is Verdict.BLOCK and result.hits[0].word == word
        assert (result.hits[0].start, result.hits[0].end) == (text.index(result.hits[0].matched),
                                                              text.index(result.hits[0].matched) + len(
                                                                  result.hits[0].matched))


def test_normalise_maps_every_character_back_to_its_original_position():
    text = "Ａ b\u200b穩*賺"
    norm, origin = normalise(text)
    assert norm == "ab稳赚"
    assert [text[i] for i in origin] == ["Ａ", "b", "穩", "賺"]


# Suggestions and overlaps


def test_suggested_text_replaces_each_word_with_its_compliant_wording():
    result = check_text("在家躺赚，月入百万，快来拉人头")
    assert result.suggested_text == "在家分享奖励，收益因人而异，快来邀请好友"
    assert check_text(result.suggested_text).verdict is Verdict.PASS


def test_suggestions_replace_the_whole_evasive_span_and_blocked_words_without_one_are_removed():
    assert check_text("快来躺 * 赚！先交入门费").suggested_text == "快来分享奖励！先交"


def test_overlapping_hits_are_all_reported_and_the_longest_is_replaced():
    result = check_text("稳赚不赔")
    assert [(h.word, h.start, h.end) for h in result.hits] == [("稳赚不赔", 0, 4), ("稳赚", 0, 2)]
    assert result.suggested_text == "理性分享"


def test_partially_overlapping_words_are_both_found():
    matcher = Matcher([Entry("拉人", "x", "block", "甲"), Entry("人头费", "y", "block", "乙")])
    result = matcher.check("拉人头费")
    assert [(h.word, h.start, h.end) for h in result.hits] == [("拉人", 0, 2), ("人头费", 1, 4)]
    assert matcher.check(result.suggested_text).verdict is Verdict.PASS


def test_review_words_without_a_suggestion_are_kept_in_the_suggested_text():
    result = check_text("销量第一的面膜")
    assert result.verdict is Verdict.REVIEW and result.suggested_text == "销量第一的面膜"


# Context rules against false positives


@pytest.mark.parametrize("text", ["第一次用就爱上了", "送给最好的朋友", "最好在晚上使用", "第一时间发货", "草根治理",
                                  "第一泡洗茶"])
def test_innocent_phrases_containing_a_listed_word_pass(text):
    assert check_text(text).verdict is Verdict.PASS


def test_an_allowed_phrase_only_covers_its_own_span():
    result = check_text("第一次用，效果全网第一")
    assert result.verdict is Verdict.BLOCK
    assert [(h.word, h.start) for h in result.hits] == [("全网第一", 7), ("第一", 9)]


def test_two_hundred_sentences_of_ordinary_product_copy_have_no_block():
    sentences = [s for s in CORPUS.read_text(encoding="utf-8").splitlines() if s.strip()]
    assert len(sentences) >= 200 and len(set(sentences)) == len(sentences)
    verdicts = {s: check_text(s).verdict for s in sentences}
    assert [s for s, v in verdicts.items() if v is Verdict.BLOCK] == []
    assert [s for s, v in verdicts.items() if v is Verdict.REVIEW] == []  # and none held either
    assert check_text("".join(sentences)).verdict is not Verdict.BLOCK  # nor across sentence boundaries


# Lexicon validation and the second stage


def test_the_default_lexicon_is_valid():
    entries = default_entries()
    assert parse_entries(e.as_dict() for e in entries) == entries


@pytest.mark.parametrize("row", [
    {"word": "", "category": "x", "verdict": "block"},
    {"word": " * ", "category": "x", "verdict": "block"},
    {"word": "a" * 33, "category": "x", "verdict": "block"},
    {"word": "词", "category": "Bad Category", "verdict": "block"},
    {"word": "词", "category": "x", "verdict": "maybe"},
    {"word": "词", "category": "x", "verdict": "block", "suggestion": 3},
])
def test_malformed_entries_are_refused(row):
    with pytest.raises(InvalidLexicon):
        parse_entries([row])


def test_a_word_equal_to_another_after_normalisation_is_a_duplicate():
    with pytest.raises(InvalidLexicon) as refused:
        parse_entries([{"word": "躺赚", "category": "x", "verdict": "block"},
                       {"word": "躺 賺", "category": "x", "verdict": "review"}])
    assert refused.value.details == {"index": 1}


def test_an_empty_lexicon_passes_everything():
    assert Matcher([]).check("躺赚").verdict is Verdict.PASS


@pytest.mark.parametrize(("ours", "wechat", "combined"), [
    (Verdict.PASS, "pass", Verdict.PASS), (Verdict.PASS, "review", Verdict.REVIEW),
    (Verdict.PASS, "risky", Verdict.BLOCK), (Verdict.REVIEW, "pass", Verdict.REVIEW),
    (Verdict.REVIEW, "risky", Verdict.BLOCK),
])
def test_wechats_risky_blocks_and_its_review_holds(ours, wechat, combined):
    text = {Verdict.PASS: "好物", Verdict.REVIEW: "销量第一"}[ours]
    assert with_second_stage(check_text(text), wechat).verdict is combined


def test_text_over_its_limit_is_refused_with_the_limit():
    check_length("a" * 10, 10)
    with pytest.raises(TextTooLong) as refused:
        check_length("a" * 11, 10, "title")
    assert refused.value.details == {"field": "title", "max_chars": 10, "chars": 11}
