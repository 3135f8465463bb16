"""Every table, from the models: created here for local stacks, turned into CloudFormation by
infra/. One source of truth for keys, indexes, TTL and billing.

``python -m chalicelib.store.tables`` creates the missing tables on the configured endpoint.
"""
from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import TableError
from pynamodb.models import Model

from chalicelib.store.base import cause_code


def all_models() -> list[type[Model]]:
    """The model of every table (the store modules import base; base imports none of them)."""
    from chalicelib.store.admin import AdminItem
    from chalicelib.store.after_sales import CaseItem
    from chalicelib.store.analytics import AnalyticsItem
    from chalicelib.store.content import ContentItem
    from chalicelib.store.jobs import JobItem
    from chalicelib.store.ledger import LedgerItem
    from chalicelib.store.order_items import OrderItem
    from chalicelib.store.products import ProductItem
    from chalicelib.store.promotions import PromotionItem
    from chalicelib.store.support import SupportItem
    from chalicelib.store.users import UserItem

    return [UserItem, ProductItem, OrderItem, LedgerItem, ContentItem, AnalyticsItem, JobItem, AdminItem, CaseItem,
            SupportItem, PromotionItem]


def table_spec(model: type[Model]) -> dict[str, Any]:
    """The CreateTable arguments of a model, in DynamoDB's own (CloudFormation-compatible) names."""
    schema = model._get_schema()
    spec: dict[str, Any] = {
        "TableName": model.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": list(schema["attribute_definitions"]),
        "KeySchema": _hash_first(schema["key_schema"]),
    }
    if schema["global_secondary_indexes"]:
        spec["GlobalSecondaryIndexes"] = [
            {"IndexName": g["index_name"], "KeySchema": _hash_first(g["key_schema"]), "Projection": g["projection"]}
            for g in schema["global_secondary_indexes"]
        ]
    return spec


def _hash_first(keys: Any) -> list[dict[str, str]]:
    return sorted(({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys),
                  key=lambda k: k["KeyType"] != "HASH")


def local_models() -> list[type[Model]]:
    """The models of this stack's tables: ``all_models()`` and, in simulator mode, the WeChat
    simulators' own table (``store/simulators.py``; never deployed)."""
    from chalicelib.config import get_settings

    if not get_settings().simulator:
        return all_models()
    from chalicelib.store.simulators import SimulatorItem

    return [*all_models(), SimulatorItem]


def ensure_tables() -> list[str]:
    """Create every missing table (``local_models()``) and wait until it is active. Returns the
    names created."""
    created = []
    for model in local_models():
        if not model.exists():
            _create(model)
            created.append(model.Meta.table_name)
        else:
            add_missing_indexes(model)
    return created


def _create(model: type[Model]) -> None:
    """Create the table and wait until it is active. A CreateTable whose answer came too late is
    sent again by botocore (the client's short read timeout, docs/ops.md "Time budgets") and then
    meets the table its first attempt made (ResourceInUseException): the table is there, so wait
    for it as for our own."""
    try:
        model.create_table(wait=True)
    except TableError as exc:
        if cause_code(exc) != "ResourceInUseException":
            raise
        model._get_connection().connection.client.get_waiter("table_exists").wait(
            TableName=model.Meta.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def add_missing_indexes(model: type[Model]) -> list[str]:
    """A table that exists already (a local database kept across ``make dev`` runs) gets the
    global secondary indexes its model gained since, one at a time, and those whose projection
    changed (DynamoDB cannot change a projection: the index is deleted and created again);
    returns their names."""
    spec = table_spec(model)
    client = model._get_connection().connection.client
    described = client.describe_table(TableName=spec["TableName"])["Table"]
    present = {index["IndexName"]: index for index in described.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in spec.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            if _projection(present[index["IndexName"]]) == _projection(index):
                continue
            client.update_table(TableName=spec["TableName"],
                                GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index["IndexName"]}}])
            _wait_gone(client, spec["TableName"], index["IndexName"])
        keys = {key["AttributeName"] for key in index["KeySchema"]}
        client.update_table(TableName=spec["TableName"], GlobalSecondaryIndexUpdates=[{"Create": index}],
                            AttributeDefinitions=[a for a in spec["AttributeDefinitions"] if a["AttributeName"] in keys])
        _wait_active(client, spec["TableName"], index["IndexName"])
        added.append(index["IndexName"])
    return added


def _projection(index: dict[str, Any]) -> tuple[str, frozenset[str]]:
    projection = index.get("Projection", {})
    return projection.get("ProjectionType", ""), frozenset(projection.get("NonKeyAttributes", []))


def _wait_gone(client: Any, table: str, index: str) -> None:
    for _ in range(600):
        described = client.describe_table(TableName=table)["Table"]
        if index not in {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}:
            return
        time.sleep(0.1)
    raise TimeoutError(f"index {index} of {table} was not deleted")


def _wait_active(client: Any, table: str, index: str) -> None:
    for _ in range(600):
        described = client.describe_table(TableName=table)["Table"]
        statuses = {i["IndexName"]: i.get("IndexStatus") for i in described.get("GlobalSecondaryIndexes", [])}
        if statuses.get(index) == "ACTIVE" and described.get("TableStatus") == "ACTIVE":
            return
        time.sleep(0.1)
    raise TimeoutError(f"index {index} of {table} did not become active")


def reset_connections() -> None:
    """Forget cached clients (after the endpoint changed, e.g. in tests)."""
    for model in local_models():
        model._connection = None


if __name__ == "__main__":
    names = ensure_tables()
    print("created tables: " + (", ".join(names) if names else "none (all present)"))
