"""The world of a hypothesis state machine over the use cases: moto's tables, a movable clock and
the process's adapters, started for each example and stopped after it."""
from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from chalicelib.bootstrap import Deps, set_default_deps
from tests.conftest import START, MutableClock


class MotoMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from moto import mock_aws

        from chalicelib.store.tables import ensure_tables, reset_connections

        self.mock = mock_aws()
        self.mock.start()
        reset_connections()
        ensure_tables()
        self.clock = MutableClock(START)
        self.deps = Deps(clock=self.clock)
        set_default_deps(self.deps)

    def teardown(self) -> None:
        from chalicelib.store.tables import reset_connections

        set_default_deps(None)
        self.mock.stop()
        reset_connections()
