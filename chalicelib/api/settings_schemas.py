"""Request and answer models of the runtime settings (docs/settings.md). ``rules`` is the whole
rules document (the ``Rules`` model of chalicelib/config.py, as JSON): the body takes it as an
object and the service validates it, so a rule it breaks is ``422 INVALID_RULES`` with every
reason, while a malformed body (an unknown field, a version that is not an integer) is
``422 VALIDATION_FAILED`` like any other route's."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, PageQuery, RequestModel
from chalicelib.domain.clock import iso

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
RULES_HELP = "the business rules, whole (GET /v1/admin/settings shows every field); omitted fields take their defaults"


class SettingsAnswer(AnswerModel):
    version: int = Field(description="the version in force")
    rules: dict[str, Any] = Field(description="the business rules in force, whole")
    updated_at: str | None = Field(description="when this version was saved; null for the seed (FENXIAO_RULES)")
    updated_by: str | None = Field(description="the admin who saved it; null for the seed")


class SettingsBody(RequestModel):
    rules: dict[str, Any] = Field(description=RULES_HELP)
    expected_version: int = Field(ge=1, description="the version this edit is based on: 409 VERSION_CONFLICT if "
                                                    "another is in force")
    reason: Reason | None = Field(default=None, description="why, for the audit log")


class SettingsSaved(AnswerModel):
    version: int = Field(description="the new version, in force in every instance within 10 s")


class RollbackBody(RequestModel):
    version: int = Field(ge=1, description="the version to restore (it stays as it was; a new version equals it)")
    reason: Reason | None = Field(default=None, description="why, for the audit log")


class VersionsQuery(PageQuery):
    pass


class VersionOut(AnswerModel):
    version: int
    at: str | None = Field(description="when it was saved; null for the seed never replaced")
    by: str | None
    changed: list[str] = Field(description="dotted paths of the rules that differ from the version it replaced "
                                           "(at most 50)")
    rollback_of: int | None = Field(default=None, description="the version a rollback restored")
    seed: bool = Field(default=False, description="version 1: the rules of FENXIAO_RULES")

    @classmethod
    def of(cls, v: Any) -> VersionOut:
        return cls(version=v.version, at=iso(v.at) if v.at else None, by=v.by, changed=v.changes.get("changed", []),
                   rollback_of=v.changes.get("rollback_of"), seed=bool(v.changes.get("seed")))


class VersionsAnswer(AnswerModel):
    items: list[VersionOut]
    next: str | None
