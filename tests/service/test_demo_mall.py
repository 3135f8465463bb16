"""The demo mall of ``make dev`` (issue 17): what it leaves alone. The walk itself runs on
DynamoDB Local (tests/race/test_demo_mall_on_dynamodb_local.py): moto copies a table on every
transaction, so a month of a mall takes it minutes."""
from __future__ import annotations

from chalicelib.bootstrap import Deps
from chalicelib.config import Mode
from chalicelib.jobs.demo_mall import FINAL_FREEZE, PARTNER, seed_demo_mall, summary_line
from chalicelib.store.users import user_id_for


def test_an_interrupted_walk_is_left_alone(deps: Deps) -> None:
    """The cast exists but the walk's last step (the freeze) never ran: no second mall on top."""
    from chalicelib.services import auth

    auth.login(f"dev:{FINAL_FREEZE}", deps)
    result = seed_demo_mall(deps)
    assert "interrupted" in result["skipped"]
    assert "interrupted" in summary_line(result)
    assert deps.users.get(user_id_for(f"dev:{PARTNER}")) is None


def test_live_mode_is_left_alone(deps: Deps) -> None:
    live = Deps(settings=deps.settings.model_copy(update={"mode": Mode.LIVE}), clock=deps.clock)
    assert "simulator mode only" in seed_demo_mall(live)["skipped"]
    assert deps.users.get(user_id_for(f"dev:{PARTNER}")) is None
