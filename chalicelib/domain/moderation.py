"""Content moderation hook. A plain blocklist for now; the moderation issue replaces the matcher.

Every text the mall publishes (shop names first) passes ``check_text`` before it is stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    REVIEW = "review"
    BLOCK = "block"


@dataclass(frozen=True)
class Hit:
    word: str
    start: int
    end: int
    category: str
    suggestion: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"word": self.word, "start": self.start, "end": self.end, "category": self.category,
                "suggestion": self.suggestion}


@dataclass(frozen=True)
class Moderation:
    verdict: Verdict
    hits: tuple[Hit, ...] = ()


BLOCKLIST: dict[str, tuple[str, str | None]] = {
    "躺赚": ("income_promise", "分享奖励"),
    "月入百万": ("income_promise", None),
    "稳赚不赔": ("income_promise", None),
    "拉人头": ("pyramid", None),
    "发展下线": ("pyramid", None),
    "入门费": ("pyramid", None),
}


def check_text(text: str) -> Moderation:
    hits = []
    for word, (category, suggestion) in BLOCKLIST.items():
        start = text.find(word)
        while start != -1:
            hits.append(Hit(word, start, start + len(word), category, suggestion))
            start = text.find(word, start + 1)
    hits.sort(key=lambda h: h.start)
    return Moderation(Verdict.BLOCK if hits else Verdict.PASS, tuple(hits))
