"""Sharding by user: 16 shards, by the id's last hex digit (the index above_base, the partner roll, the monthly jobs' parts)."""
from __future__ import annotations

SHARDS = tuple(format(i, "x") for i in range(16))


def shard_of(user_id: str) -> str:
    return user_id[-1]
