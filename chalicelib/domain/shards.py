"""Sharding of hot index partitions (the index above_base, the partner roll, the ledger's settlement queue,
touched wallets and withdrawals in flight): 16 shards, by the id's last hex digit.

User ids are ``u`` + hex (store/users.py), so their last character already spreads evenly; any
other id (a test's ``seller``, an id of another shape) is mapped to a digit by a hash, so that
every id lands in one of ``SHARDS`` and a job that walks the shards finds it.
"""
from __future__ import annotations

import hashlib

SHARDS = tuple(format(i, "x") for i in range(16))


def shard_of(user_id: str) -> str:
    last = user_id[-1:]
    if last in SHARDS:
        return last
    return hashlib.sha256(user_id.encode()).hexdigest()[-1]
