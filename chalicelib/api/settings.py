"""The runtime settings: the business rules as versions (docs/settings.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.settings_schemas"
if TYPE_CHECKING:
    from chalicelib.api import settings_schemas as s
    from chalicelib.domain import clock
    from chalicelib.services import settings
else:
    s, clock, settings = lazy(MODELS), lazy("chalicelib.domain.clock"), lazy("chalicelib.services.settings")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/settings", auth="admin", tag="settings", response="SettingsAnswer", models=MODELS,
          summary="The business rules in force, whole, with their version")
def get_settings(call: Call) -> s.SettingsAnswer:
    view = settings.current(call.deps)
    return s.SettingsAnswer(version=view.version, rules=view.rules,
                            updated_at=clock.iso(view.updated_at) if view.updated_at else None,
                            updated_by=view.updated_by)


@endpoint(bp, "/v1/admin/settings", "PUT", auth="admin", tag="settings", body="SettingsBody",
          response="SettingsSaved", models=MODELS, errors=("VERSION_CONFLICT", "INVALID_RULES"),
          summary="Save new rules as the next version (422 INVALID_RULES lists every reason; 409 VERSION_CONFLICT "
                  "when expected_version is not in force); in force everywhere within 10 s")
def put_settings(call: Call) -> s.SettingsSaved:
    body = call.body
    return s.SettingsSaved(version=settings.save(body.rules, body.expected_version, call.user_id, call.deps,
                                                 body.reason))


@endpoint(bp, "/v1/admin/settings/versions", auth="admin", tag="settings", query="VersionsQuery",
          response="VersionsAnswer", models=MODELS, errors=("INVALID_CURSOR",),
          summary="The settings' versions, newest first: when, by whom, what changed")
def list_versions(call: Call) -> s.VersionsAnswer:
    versions, next_cursor = settings.history(call.query.limit, call.query.next, call.deps)
    return s.VersionsAnswer(items=[s.VersionOut.of(v) for v in versions], next=next_cursor)


@endpoint(bp, "/v1/admin/settings/rollback", "POST", auth="admin", tag="settings", body="RollbackBody",
          response="SettingsSaved", models=MODELS, errors=("SETTINGS_VERSION_NOT_FOUND",),
          summary="Make a new version equal to an earlier one (which stays as it was)")
def rollback(call: Call) -> s.SettingsSaved:
    return s.SettingsSaved(version=settings.rollback(call.body.version, call.user_id, call.deps, call.body.reason))
