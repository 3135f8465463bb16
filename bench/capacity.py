"""The capacity benches of issue 14 ("Must show"): each module's ``run(sizes) -> list[dict]`` seeds
DynamoDB Local at each size, runs its jobs through ``run_job`` and returns one row per job and
size plus an extrapolation to 1,000,000 (docs/capacity.md)."""
from __future__ import annotations

CAPACITY_BENCHES = [
    "bench.capacity_ledger",  # settle_commissions, reconcile_wallets
]
