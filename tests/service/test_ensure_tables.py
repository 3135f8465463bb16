"""ensure_tables when a CreateTable was answered too late: botocore sends it again, the second
attempt finds the table the first one made (ResourceInUseException), and the stack is still up."""
from __future__ import annotations

import pytest
from moto import mock_aws
from pynamodb.exceptions import TableError

from chalicelib.store.tables import all_models, ensure_tables, reset_connections


@pytest.fixture
def empty_aws() -> object:
    with mock_aws():
        reset_connections()
        yield
    reset_connections()


def test_a_table_made_by_an_earlier_attempt_counts_as_created(empty_aws: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    model = all_models()[0]
    model.create_table(wait=True)  # the first attempt, whose answer "never came"
    monkeypatch.setattr(model, "exists", classmethod(lambda cls: False))
    assert model.Meta.table_name in ensure_tables()
    assert model.describe_table()["TableStatus"] == "ACTIVE"


def test_another_refusal_of_create_table_still_raises(empty_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    model = all_models()[0]
    cause = type("Cause", (Exception,), {"response": {"Error": {"Code": "LimitExceededException"}}})()

    def refused(cls: object, **_: object) -> None:
        raise TableError("Failed to create table", cause)

    monkeypatch.setattr(model, "create_table", classmethod(refused))
    with pytest.raises(TableError):
        ensure_tables()
