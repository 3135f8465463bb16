"""The lexicon shipped with the code: version 1, until an admin saves another (DOMAIN.md §6).

Each entry: (word, category, verdict, suggestion). ``block`` refuses the text; ``review`` holds
it for a person; ``allow`` marks an innocent phrase that contains a listed word (第一次, 最好在):
a hit lying inside an allowed phrase is dropped. Absolute terms (最好, 第一, 最佳 ...) are
``review``, not ``block``: the Advertising Law forbids them in claims, but ordinary copy uses
them innocently all the time (第一次用, 最好的朋友), and a person decides better than a rule.
"""
from __future__ import annotations

INCOME = "income_promise"
PYRAMID = "pyramid"
SHARING = "induced_sharing"
FALSE_AD = "false_advertising"
ALLOW = "allow"

Row = tuple[str, str, str, str | None]

DEFAULT_ENTRIES: tuple[Row, ...] = (
    # income promises (收益承诺)
    ("躺赚", INCOME, "block", "分享奖励"),
    ("tangzhuan", INCOME, "block", "分享奖励"),
    ("躺着赚钱", INCOME, "block", "分享奖励"),
    ("躺着收钱", INCOME, "block", "分享奖励"),
    ("坐等收钱", INCOME, "block", "分享奖励"),
    ("月入百万", INCOME, "block", "收益因人而异"),
    ("月入千万", INCOME, "block", "收益因人而异"),
    ("月入十万", INCOME, "block", "收益因人而异"),
    ("月入过万", INCOME, "block", "收益因人而异"),
    ("日入千元", INCOME, "block", "收益因人而异"),
    ("年入百万", INCOME, "block", "收益因人而异"),
    ("稳赚不赔", INCOME, "block", "理性分享"),
    ("稳赚", INCOME, "block", "分享奖励"),
    ("保本保息", INCOME, "block", None),
    ("零风险高回报", INCOME, "block", None),
    ("一夜暴富", INCOME, "block", None),
    ("财务自由", INCOME, "review", None),
    ("睡后收入", INCOME, "review", "分享奖励"),
    ("暴利", INCOME, "review", None),
    # pyramid wording (传销话术)
    ("拉人头", PYRAMID, "block", "邀请好友"),
    ("人头费", PYRAMID, "block", None),
    ("发展下线", PYRAMID, "block", "邀请好友"),
    ("拉下线", PYRAMID, "block", "邀请好友"),
    ("下线提成", PYRAMID, "block", "分享奖励"),
    ("入门费", PYRAMID, "block", None),
    ("入会费", PYRAMID, "block", None),
    ("交钱入会", PYRAMID, "block", None),
    ("团队计酬", PYRAMID, "block", None),
    ("三级分销", PYRAMID, "block", None),
    ("多级分销", PYRAMID, "block", None),
    ("无限代", PYRAMID, "block", None),
    ("层级返利", PYRAMID, "block", None),
    # induced sharing (诱导分享)
    ("转发才能领", SHARING, "block", "欢迎分享"),
    ("分享才能领", SHARING, "block", "欢迎分享"),
    ("转发朋友圈领", SHARING, "block", "欢迎分享"),
    ("分享到三个群", SHARING, "block", "欢迎分享"),
    ("不转不是中国人", SHARING, "block", None),
    ("集赞", SHARING, "block", None),
    ("点赞领取", SHARING, "block", None),
    ("必须转发", SHARING, "block", "欢迎分享"),
    ("转发抽奖", SHARING, "review", None),
    # false advertising (虚假宣传), absolute terms held for review
    ("根治", FALSE_AD, "block", "改善"),
    ("药到病除", FALSE_AD, "block", None),
    ("包治百病", FALSE_AD, "block", None),
    ("百分百有效", FALSE_AD, "block", "效果因人而异"),
    ("100%有效", FALSE_AD, "block", "效果因人而异"),
    ("无副作用", FALSE_AD, "block", None),
    ("永不反弹", FALSE_AD, "block", None),
    ("祖传秘方", FALSE_AD, "block", None),
    ("抗癌", FALSE_AD, "block", None),
    ("国家级", FALSE_AD, "block", None),
    ("全网第一", FALSE_AD, "block", "人气好物"),
    ("全国第一", FALSE_AD, "block", "人气好物"),
    ("最好", FALSE_AD, "review", None),
    ("第一", FALSE_AD, "review", None),
    ("最佳", FALSE_AD, "review", None),
    ("最强", FALSE_AD, "review", None),
    ("顶级", FALSE_AD, "review", None),
    ("独一无二", FALSE_AD, "review", None),
    ("立竿见影", FALSE_AD, "review", None),
    # pinyin spellings (toneless, no spaces: tǎng zhuàn and TANG ZHUAN fold to them); each also
    # matches its phrase written half in hanzi, half in pinyin (躺zhuan, tang赚: pinyin.py)
    ("wenzhuan", INCOME, "block", "分享奖励"),
    ("wenzhuanbupei", INCOME, "block", "理性分享"),
    ("tangzhezhuanqian", INCOME, "block", "分享奖励"),
    ("yuerubaiwan", INCOME, "block", "收益因人而异"),
    ("yuerushiwan", INCOME, "block", "收益因人而异"),
    ("yueruguowan", INCOME, "block", "收益因人而异"),
    ("riruqianyuan", INCOME, "block", "收益因人而异"),
    ("yiyebaofu", INCOME, "block", None),
    ("larentou", PYRAMID, "block", "邀请好友"),
    ("rentoufei", PYRAMID, "block", None),
    ("fazhanxiaxian", PYRAMID, "block", "邀请好友"),
    ("laxiaxian", PYRAMID, "block", "邀请好友"),
    ("rumenfei", PYRAMID, "block", None),
    ("jizan", SHARING, "block", None),
    ("genzhi", FALSE_AD, "block", "改善"),
    ("baozhibaibing", FALSE_AD, "block", None),
    # innocent phrases containing a listed word
    *((phrase, ALLOW, "allow", None) for phrase in (
        "第一次", "第一天", "第一步", "第一批", "第一口", "第一眼", "第一时间", "第一件", "第一杯", "第一代",
        "第一季", "第一周", "第一位", "第一层", "第一遍", "最好在", "最好不要", "最好是", "最好先", "最好能",
        "最好的朋友", "最好放在", "第一泡", "第一道", "草根治理")),
)
