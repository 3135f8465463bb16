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


def test_an_index_whose_projection_changed_is_created_again_with_the_new_one(local_env: Any):
    """The products' ``listing`` index projected every attribute (``stock`` too) before issue 14:
    a kept local database gets it again without ``stock``, and its listed products with it."""
    from chalicelib.store.products import ProductItem
    from chalicelib.store.tables import add_missing_indexes, ensure_tables, table_spec

    ensure_tables()
    client = ProductItem._get_connection().connection.client
    spec = table_spec(ProductItem)
    name = spec["TableName"]
    listing = next(i for i in spec["GlobalSecondaryIndexes"] if i["IndexName"] == "listing")
    client.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "listing"}}])
    for _ in range(100):
        if "listing" not in {i["IndexName"] for i in client.describe_table(TableName=name)["Table"].get(
                "GlobalSecondaryIndexes", [])}:
            break
        time.sleep(0.1)
    client.update_table(TableName=name, AttributeDefinitions=[
        a for a in spec["AttributeDefinitions"] if a["AttributeName"] in ("catalog", "product_id")],
        GlobalSecondaryIndexUpdates=[{"Create": {**listing, "Projection": {"ProjectionType": "ALL"}}}])
    for _ in range(100):
        indexes = {i["IndexName"]: i for i in client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]}
        if indexes.get("listing", {}).get("IndexStatus") == "ACTIVE":
            break
        time.sleep(0.1)
    assert indexes["listing"]["Projection"] == {"ProjectionType": "ALL"}

    assert add_missing_indexes(ProductItem) == ["listing"]
    assert add_missing_indexes(ProductItem) == []
    projection = {i["IndexName"]: i for i in client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
                  }["listing"]["Projection"]
    assert projection["ProjectionType"] == "INCLUDE" and "stock" not in projection["NonKeyAttributes"]
