"""A kept local database gets the indexes its models gained since (DynamoDB Local)."""
from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.race


def test_an_existing_table_missing_an_index_gets_it_and_a_second_run_changes_nothing(local_env: Any):
    from chalicelib.store.order_items import OrderItem
    from chalicelib.store.tables import add_missing_indexes, ensure_tables, table_spec

    ensure_tables()
    client = OrderItem._get_connection().connection.client
    name = table_spec(OrderItem)["TableName"]
    client.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "groups_due"}}])
    for _ in range(100):
        indexes = client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
        if "groups_due" not in {i["IndexName"] for i in indexes}:
            break
        time.sleep(0.1)
    assert add_missing_indexes(OrderItem) == ["groups_due"]
    assert add_missing_indexes(OrderItem) == []
    assert list(OrderItem.groups_due.query("2026-01-01")) == []
