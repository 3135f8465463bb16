"""README's "Scheduled jobs" table names every ``@app.schedule`` of app.py, no other, each with
its EventBridge expression (UTC) and its time in Shanghai (UTC+8) as app.py schedules it.

app.py is read, not imported: its decorators' ``Cron(...)``/``Rate(...)`` calls are evaluated
with chalice's own classes, which also write the EventBridge expressions."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from chalice.app import Cron, Rate

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+?) \| `([^`]+)` \|", re.M)


def schedules() -> dict[str, Cron | Rate]:
    """job name -> the schedule expression object, from app.py's decorators."""
    found: dict[str, Cron | Rate] = {}
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                    and deco.func.attr == "schedule" and deco.args):
                keywords = {k.arg: k.value for k in deco.keywords}
                name = ast.literal_eval(keywords["name"]) if "name" in keywords else node.name
                expression = ast.Expression(deco.args[0])
                # app.py is our own file and the expression a Cron(...) or Rate(...) call of literals
                found[name] = eval(compile(expression, "app.py", "eval"), {"Cron": Cron, "Rate": Rate})  # noqa: S307
    return found


def shanghai(schedule: Cron | Rate) -> str:
    """How the README says when it runs: "every N min" or "HH:MM daily" (Asia/Shanghai, UTC+8)."""
    if isinstance(schedule, Rate):
        assert schedule.unit == Rate.MINUTES, "say how the README should show other rates"
        return f"every {schedule.value} min"
    assert (schedule.day_of_month, schedule.month, schedule.day_of_week, schedule.year) == ("*", "*", "?", "*"), \
        "say how the README should show schedules other than daily"
    minutes = (int(schedule.hours) * 60 + int(schedule.minutes) + 8 * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d} daily"


def readme_rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Scheduled jobs" in text, "README.md has no \"Scheduled jobs\" section"
    section = text.split("## Scheduled jobs", 1)[1].split("\n## ", 1)[0]
    return {name: (when, expression) for name, when, expression in ROW.findall(section)}


def test_app_has_the_jobs_of_the_contract() -> None:
    assert sorted(schedules()) == sorted([
        "evaluate_tiers", "cancel_unpaid", "expire_groups", "auto_confirm", "settle_commissions",
        "reconcile_wallets", "team_bonus", "compute_metrics", "poll_transfers", "compute_recommendations",
        "report_shipments", "track_parcels", "finish_case_refunds", "send_messages"])


def test_readme_lists_every_scheduled_job_with_its_schedule() -> None:
    expected = {name: (shanghai(s), s.to_string()) for name, s in schedules().items()}
    assert readme_rows() == expected
