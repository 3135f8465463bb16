"""The ledger's pure rules: kinds as a distributor reads them, balances undone line by line, masks."""
from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.ledger_lines import BUCKETS, LedgerEntry, before, lines, mask_nickname, movement, public_kind, public_note

AT = datetime(2026, 11, 10, tzinfo=UTC)


def test_stored_kinds_become_the_few_a_distributor_reads():
    assert [public_kind(k) for k in ("accrual", "reward", "team_bonus", "team_bonus_clawback", "team_bonus_reversal",
                                     "leaderboard_reward", "leaderboard_clawback", "withdrawal_return", "settlement")] \
        == ["commission", "invitation_reward", "team_bonus", "clawback", "reversal", "leaderboard_reward",
            "clawback", "withdrawal_return", "settlement"]


def test_a_note_names_what_a_line_without_an_order_is_about():
    assert public_note("entry#teambonus#2026-11#0#team_bonus") == "team_bonus 2026-11"
    assert public_note("entry#milestone#0050#0#reward") == "milestone 50"
    assert public_note("entry#leaderboard#sales#2026-11#0#leaderboard_reward") == "leaderboard sales 2026-11"
    assert public_note("entry#o123#1#accrual") is None


def test_a_movement_names_buckets_only_and_an_unknown_status_moves_nothing():
    assert movement("->pending") == (None, "pending")
    assert movement("available>-") == ("available", None)
    assert movement("frozen>available") == ("frozen", "available")
    assert movement(None) == (None, None) and movement("garbage") == (None, None)


def test_a_masked_nickname_keeps_its_first_character():
    assert (mask_nickname("张三丰"), mask_nickname("Alice"), mask_nickname(""), mask_nickname(None)) == \
        ("张**", "A**", "**", "**")


STATUSES = st.sampled_from(["->pending", "pending>frozen", "frozen>available", "pending>available", "available>-",
                            "pending>-", "frozen>-", "->available", "available>withdrawing", "withdrawing>withdrawn",
                            "withdrawing>available"])


@settings(max_examples=60)
@given(st.lists(st.tuples(STATUSES, st.integers(1, 10_000)), max_size=30), st.integers(1, 7))
def test_any_history_read_in_pages_undoes_to_nothing_from_the_wallet(history, page):
    """Applied oldest first, the movements make the wallet; read newest first in pages, each page
    starting from the balances the previous one ended with, the last line undone gives zeros."""
    wallet = dict.fromkeys(BUCKETS, 0)
    entries = []
    for i, (status, fen) in enumerate(history):
        source, target = movement(status)
        if source:
            wallet[source] -= fen
        if target:
            wallet[target] += fen
        entries.append(LedgerEntry(f"entry#{i:03d}", "x", fen, AT, status, None))
    newest_first = entries[::-1]
    balances: dict[str, int] | None = wallet
    shown = []
    for start in range(0, len(newest_first), page):
        chunk, balances = lines(newest_first[start:start + page], balances)
        shown += chunk
    assert balances == dict.fromkeys(BUCKETS, 0)
    assert not shown or shown[0].balances == wallet
    assert all(before(line.balances or {}, line.entry.status, line.entry.amount_fen) ==
               (shown[i + 1].balances if i + 1 < len(shown) else dict.fromkeys(BUCKETS, 0))
               for i, line in enumerate(shown))
