"""The console's settings: the runtime rules as forms, checked by the server (the same
``parse_rules`` and margin guard as ``PUT /v1/admin/settings``) before a diff is shown, saved
only from the diff, and the version history with rollback (docs/console.md "Settings").

Preview and save are two requests: the diff page carries the whole document it shows and the
version it was based on, so the save is exactly what the operator read (another save meanwhile:
409 VERSION_CONFLICT, nothing changed).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.domain.errors import DomainError, ValidationFailed
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import settings_schemas as s
    from chalicelib.services import settings
    from chalicelib.web.console import fields, rules_form
else:
    fields = lazy("chalicelib.web.console.fields")
    s, settings = lazy("chalicelib.api.settings_schemas"), lazy("chalicelib.services.settings")
    rules_form = lazy("chalicelib.web.console.rules_form")

bp = Blueprint(__name__)
RULES_FIELD = "rules_json"  # the advanced editor: the whole document as JSON


def _form_page(call: PageCall, version: int, rules: dict[str, Any], status: int = 200,
               error: DomainError | None = None, reason: str = "") -> Response:
    current = settings.current(call.deps)
    reasons = {r.get("path", ""): r.get("message", "") for r in (error.details.get("reasons") or [])} if error else {}
    for f in (error.details.get("fields") or []) if error else []:
        reasons[f.get("field", "")] = f.get("problem", "")
    return call.render("settings.html", status, sections=rules_form.sections(rules), version=version,
                       in_force=current, rules_json=json.dumps(rules, ensure_ascii=False, indent=2),
                       error=error, reasons=reasons, reason=reason, saved=call.query.get("saved", ""))


@page(bp, "/console/settings")
def settings_page(call: PageCall) -> Response:
    view = settings.current(call.deps)
    return _form_page(call, view.version, view.rules)


def _submitted(call: PageCall, based_on: dict[str, Any]) -> dict[str, Any]:
    """The document the form describes: the advanced editor's JSON when it was changed, else
    the fields put on the version the form was based on."""
    text = call.form.get(RULES_FIELD, "").strip()
    if text and call.form.get("editor") == "json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed("the rules are not JSON", fields=[{"field": RULES_FIELD, "problem": str(exc)}]) \
                from exc
        if not isinstance(raw, dict):
            raise ValidationFailed("the rules are a JSON object", fields=[{"field": RULES_FIELD, "problem": "对象"}])
        return raw
    given = {name[2:]: call.form.get(name) for name in call.form.fields if name.startswith("f.")}
    return rules_form.apply(based_on, given)


@page(bp, "/console/settings/preview", ("POST",))
def preview(call: PageCall) -> Response:
    """Check the edit as the save will, then show what changes (nothing is saved here)."""
    version = fields.whole_number(call.form.get("expected_version"), "expected_version")
    reason = call.form.get("reason", "").strip()
    before = settings.current(call.deps).rules  # based on an older version: the save answers VERSION_CONFLICT
    try:
        after = _submitted(call, before)
        settings.check_margins(settings.parse_rules(after), call.deps)
    except DomainError as exc:
        return _form_page(call, version, _best_effort(call, before), 422, exc, reason)
    after = settings.as_json(settings.parse_rules(after))  # defaults filled in, as the save stores it
    return call.render("settings_diff.html", changes=rules_form.changes(before, after), version=version,
                       rules_json=json.dumps(after, ensure_ascii=False, separators=(",", ":")), reason=reason)


def _best_effort(call: PageCall, before: dict[str, Any]) -> dict[str, Any]:
    """The form as the operator filled it, to show again beside the server's reasons."""
    given = {name[2:]: call.form.get(name) for name in call.form.fields if name.startswith("f.")}
    try:
        return rules_form.apply(before, given)
    except DomainError:
        return before


@page(bp, "/console/settings/save", ("POST",))
def save(call: PageCall) -> Response:
    body = validate(s.SettingsBody, {"rules": _json_object(call.form.get(RULES_FIELD)),
                                     "expected_version": fields.whole_number(call.form.get("expected_version"),
                                                                             "expected_version"),
                                     "reason": call.form.get("reason", "").strip() or None})
    number = settings.save(body.rules, body.expected_version, call.admin_id, call.deps, body.reason)
    return call.redirect(f"/console/settings?saved={number}")


def _json_object(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed("the rules are not JSON", fields=[{"field": RULES_FIELD, "problem": str(exc)}]) from exc


@page(bp, "/console/settings/versions")
def versions(call: PageCall) -> Response:
    q = validate(s.VersionsQuery, {k: v for k, v in call.query.items() if k in ("next",) and v})
    items, next_cursor = settings.history(20, q.next, call.deps)
    return call.render("settings_versions.html", items=items, next=next_cursor,
                       in_force=settings.current(call.deps).version, done=call.query.get("done", ""))


@page(bp, "/console/settings/rollback", ("POST",))
def rollback(call: PageCall) -> Response:
    body = validate(s.RollbackBody, {"version": fields.whole_number(call.form.get("version"), "version"),
                                     "reason": call.form.get("reason", "").strip() or None})
    number = settings.rollback(body.version, call.admin_id, call.deps, body.reason)
    return call.redirect(f"/console/settings/versions?done={number}")
