"""Customer service's pure rules (chalicelib/domain/support.py): reading a push, the queue's
order, WeChat's reply window."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.support import (
    AlreadyClosed,
    Conversation,
    ReplyLimitReached,
    ReplyWindowClosed,
    Status,
    WindowKind,
    after_close,
    after_reply,
    after_user,
    check_reply,
    read_push,
    replies_left,
)
from chalicelib.domain.tiers import Tier

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def text(at: datetime = T0, msg_id: int = 1, content: str = "在吗") -> dict[str, object]:
    return {"FromUserName": "o-1", "CreateTime": int(at.timestamp()), "MsgType": "text", "Content": content,
            "MsgId": msg_id}


def enter(at: datetime) -> dict[str, object]:
    return {"FromUserName": "o-1", "CreateTime": int(at.timestamp()), "MsgType": "event",
            "Event": "user_enter_tempsession", "SessionFrom": "x"}


def wrote(conv: Conversation, fields: dict[str, object], tier: Tier = Tier.REGULAR) -> Conversation:
    inbound = read_push(fields, T0)
    assert inbound is not None
    return after_user(conv, inbound, tier)


def fresh() -> Conversation:
    return Conversation("u1", "o-1")


def test_a_text_is_read_with_wechats_time_and_deduplicated_by_msgid():
    inbound = read_push(text(T0 - timedelta(seconds=3), 77), T0)
    assert inbound is not None
    assert (inbound.kind, inbound.text, inbound.dedupe, inbound.at) == ("text", "在吗", "77", T0 - timedelta(seconds=3))


def test_an_event_is_deduplicated_by_sender_and_create_time_and_other_events_are_ignored():
    inbound = read_push(enter(T0), T0)
    assert inbound is not None and not inbound.is_message
    assert inbound.dedupe == f"o-1#{int(T0.timestamp())}#enter"
    assert read_push({"FromUserName": "o-1", "CreateTime": 1, "MsgType": "event", "Event": "other"}, T0) is None
    assert read_push({"MsgType": "text"}, T0) is None


def test_an_image_and_a_card_keep_their_media():
    image = read_push({"FromUserName": "o", "CreateTime": 1, "MsgType": "image", "PicUrl": "https://x/p.jpg",
                       "MediaId": "m1", "MsgId": 5}, T0)
    assert image is not None and image.media == {"PicUrl": "https://x/p.jpg", "MediaId": "m1"}
    card = read_push({"FromUserName": "o", "CreateTime": 1, "MsgType": "miniprogrampage", "Title": "面膜",
                      "PagePath": "pages/p?id=1", "MsgId": 6}, T0)
    assert card is not None and (card.text, card.media["PagePath"]) == ("面膜", "pages/p?id=1")


def test_messages_make_a_conversation_wait_since_the_first_unanswered_one():
    conv = wrote(fresh(), text(T0, 1))
    conv = wrote(conv, text(T0 + timedelta(minutes=5), 2, "还在吗"))
    assert (conv.status, conv.unread, conv.waiting_since, conv.preview) == (Status.WAITING, 2, T0, "还在吗")


def test_senior_and_partner_distributors_come_first_then_the_longest_waiting():
    early_regular = wrote(Conversation("ua", "o-a"), text(T0, 1))
    late_senior = wrote(Conversation("ub", "o-b"), text(T0 + timedelta(hours=1), 2), Tier.SENIOR)
    late_partner = wrote(Conversation("uc", "o-c"), text(T0 + timedelta(hours=2), 3), Tier.PARTNER)
    later_regular = wrote(Conversation("ud", "o-d"), text(T0 + timedelta(hours=3), 4))
    keys = [c.queue_key() for c in (later_regular, late_partner, early_regular, late_senior)]
    assert [k.rsplit("#", 1)[1] for k in sorted(k for k in keys if k)] == ["ub", "uc", "ua", "ud"]


def test_a_promotion_while_waiting_moves_the_user_up_never_down():
    conv = wrote(fresh(), text(T0, 1), Tier.SENIOR)
    assert wrote(conv, text(T0, 2), Tier.REGULAR).priority == 0
    assert wrote(wrote(fresh(), text(T0, 1)), text(T0, 2), Tier.PARTNER).priority == 0


def test_five_replies_fit_in_the_48_hours_after_a_message():
    conv = wrote(fresh(), text(T0, 1))
    for i in range(5):
        check_reply(conv, T0 + timedelta(hours=47))
        conv = after_reply(conv, T0 + timedelta(hours=47, seconds=i), "好的", conv.last_user_at)
    with pytest.raises(ReplyLimitReached):
        check_reply(conv, T0 + timedelta(hours=47, minutes=1))


def test_the_window_closes_48_hours_after_the_users_message():
    conv = wrote(fresh(), text(T0, 1))
    check_reply(conv, T0 + timedelta(hours=48))
    with pytest.raises(ReplyWindowClosed):
        check_reply(conv, T0 + timedelta(hours=48, seconds=1))
    assert replies_left(conv, T0 + timedelta(hours=49)) == 0


def test_no_window_before_the_user_writes():
    with pytest.raises(ReplyWindowClosed):
        check_reply(fresh(), T0)


def test_entering_the_conversation_opens_two_replies_for_a_minute():
    conv = wrote(fresh(), enter(T0))
    assert conv.status is Status.ANSWERED and conv.window_kind is WindowKind.SESSION
    check_reply(conv, T0 + timedelta(seconds=59))
    conv = after_reply(after_reply(conv, T0, "您好", None), T0, "在的", None)
    with pytest.raises(ReplyLimitReached):
        check_reply(conv, T0 + timedelta(seconds=30))
    with pytest.raises(ReplyWindowClosed):
        check_reply(wrote(fresh(), enter(T0)), T0 + timedelta(seconds=61))


def test_entering_never_shortens_an_open_message_window():
    conv = wrote(wrote(fresh(), text(T0, 1)), enter(T0 + timedelta(hours=1)))
    assert (conv.window_kind, conv.window_at) == (WindowKind.MESSAGE, T0)
    expired = wrote(wrote(fresh(), text(T0, 1)), enter(T0 + timedelta(hours=49)))
    assert expired.window_kind is WindowKind.SESSION


def test_a_new_message_opens_a_new_window_of_five():
    conv = wrote(fresh(), text(T0, 1))
    for _ in range(5):
        conv = after_reply(conv, T0, "好", conv.last_user_at)
    conv = wrote(conv, text(T0 + timedelta(hours=50), 2))
    check_reply(conv, T0 + timedelta(hours=51))
    assert replies_left(conv, T0 + timedelta(hours=51)) == 5


def test_a_reply_answers_the_conversation_unless_the_user_wrote_meanwhile():
    conv = wrote(fresh(), text(T0, 1))
    answered = after_reply(conv, T0 + timedelta(minutes=1), "好的", conv.last_user_at)
    assert (answered.status, answered.unread, answered.waiting_since) == (Status.ANSWERED, 0, None)
    newer = wrote(conv, text(T0 + timedelta(seconds=30), 2))
    kept = after_reply(newer, T0 + timedelta(minutes=1), "好的", conv.last_user_at)
    assert (kept.status, kept.unread, kept.replies) == (Status.WAITING, 2, 0)


def test_only_a_waiting_conversation_can_be_closed():
    closed = after_close(wrote(fresh(), text(T0, 1)))
    assert (closed.status, closed.queue_key()) == (Status.CLOSED, None)
    with pytest.raises(AlreadyClosed):
        after_close(closed)
    assert wrote(closed, text(T0, 2)).status is Status.WAITING


def test_a_text_is_kept_to_its_stored_length():
    long = read_push(text(content="字" * 5_000), T0)
    assert long is not None and len(long.text) == 2_000
    assert replace(fresh(), status=Status.WAITING).queue_key() is None  # no waiting_since: not queued
