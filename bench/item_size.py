"""The size DynamoDB bills and limits (400 KB) an item at: attribute names plus values, by the
rules of the developer guide ("Item sizes and formats"): a string its UTF-8 bytes, a number ~1 byte
per two significant digits plus 1, a list or map 3 bytes plus 1 per element plus the elements.
Used by the capacity benches and by the tests that prove no item grows with the catalogue."""
from __future__ import annotations

from typing import Any


def value_bytes(value: dict[str, Any]) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else len(raw.encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_bytes(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_bytes(v) for k, v in raw.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_bytes({kind[0]: v}) for v in raw)
    raise ValueError(f"no size rule for {kind}")


def item_bytes(item: dict[str, Any]) -> int:
    """The size of a raw item (DynamoDB JSON, as a Scan returns it)."""
    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**request)
        items += page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def largest(items: list[dict[str, Any]], prefix: str = "") -> tuple[int, str]:
    """The largest item among ``items`` whose pk starts with ``prefix``: (bytes, its pk#sk)."""
    sized = [(item_bytes(i), f"{i['pk']['S']}|{i['sk']['S']}") for i in items if i["pk"]["S"].startswith(prefix)]
    return max(sized, default=(0, ""))


def analytics_items() -> list[dict[str, Any]]:
    """Every item of the analytics table (a Scan: for tests and benches only)."""
    from chalicelib.store.analytics import AnalyticsItem

    return scan(AnalyticsItem._get_connection().connection.client, AnalyticsItem.Meta.table_name)
