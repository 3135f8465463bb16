"""Sharding of hot index partitions (the distributors index): 16 shards, by the id's last hex digit."""
from __future__ import annotations

SHARDS = tuple(format(i, "x") for i in range(16))


def shard_of(user_id: str) -> str:
    return user_id[-1]
