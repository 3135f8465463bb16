"""Tier rights (domain/materials.py ``Material.unlocking_tier``): below the minimum tier a
material is locked and names the tier that unlocks it; early access ends at ``open_from``."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.materials import Material, MaterialKind, MaterialStatus
from chalicelib.domain.tiers import Tier

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
BASE = Material("m1", "直播培训", "课程内容", "admin", NOW, MaterialStatus.PUBLISHED, published_at=NOW,
                kind=MaterialKind.TRAINING)


@pytest.mark.parametrize(("min_tier", "tier", "unlocks"), [
    (None, Tier.REGULAR, None),
    (Tier.SENIOR, Tier.REGULAR, Tier.SENIOR),
    (Tier.SENIOR, Tier.SENIOR, None),
    (Tier.SENIOR, Tier.PARTNER, None),
    (Tier.PARTNER, Tier.REGULAR, Tier.PARTNER),
    (Tier.PARTNER, Tier.SENIOR, Tier.PARTNER),
    (Tier.PARTNER, Tier.PARTNER, None),
    (Tier.REGULAR, Tier.REGULAR, None),
])
def test_a_material_is_locked_exactly_below_its_minimum_tier(min_tier: Tier | None, tier: Tier,
                                                              unlocks: Tier | None) -> None:
    material = Material(**{**BASE.__dict__, "min_tier": min_tier})
    assert material.unlocking_tier(tier, NOW) == unlocks


def test_early_access_opens_to_every_tier_from_its_open_from_instant() -> None:
    event = Material(**{**BASE.__dict__, "kind": MaterialKind.EVENT, "min_tier": Tier.SENIOR,
                        "open_from": NOW + timedelta(days=2)})
    assert event.unlocking_tier(Tier.REGULAR, NOW + timedelta(days=2) - timedelta(seconds=1)) is Tier.SENIOR
    assert event.unlocking_tier(Tier.REGULAR, NOW + timedelta(days=2)) is None
    assert event.unlocking_tier(Tier.SENIOR, NOW) is None


def test_publishing_keeps_the_rights() -> None:
    held = Material(**{**BASE.__dict__, "status": MaterialStatus.PENDING_REVIEW, "published_at": None,
                       "min_tier": Tier.PARTNER})
    published = held.published(NOW)
    assert (published.status, published.published_at, published.min_tier, published.kind) == \
        (MaterialStatus.PUBLISHED, NOW, Tier.PARTNER, MaterialKind.TRAINING)
