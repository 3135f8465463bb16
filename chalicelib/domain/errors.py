"""One error base with a stable code; the API maps each kind to an HTTP status in one place."""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What sort of failure an error is; decides the HTTP status (api/errors.py)."""

    INVALID = "invalid"  # 422: well-formed input the rules refuse
    BAD_REQUEST = "bad_request"  # 400: malformed input
    UNAUTHENTICATED = "unauthenticated"  # 401
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409: the state of things refuses it
    TOO_LARGE = "too_large"  # 413
    UNAVAILABLE = "unavailable"  # 503: try again


class DomainError(Exception):
    """A refusal with a stable, documented code (API.md)."""

    code: str = "ERROR"
    kind: Kind = Kind.INVALID

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code.replace("_", " ").lower()
        self.details = details


def error(code: str, kind: Kind, doc: str) -> type[DomainError]:
    """Declare an error class with its code and kind."""
    return type(code.title().replace("_", ""), (DomainError,), {"code": code, "kind": kind, "__doc__": doc})


# Requests
ValidationFailed = error("VALIDATION_FAILED", Kind.INVALID, "A field is missing, of the wrong type or out of range.")
MalformedJson = error("MALFORMED_JSON", Kind.BAD_REQUEST, "The body is not valid JSON.")
BodyTooLarge = error("BODY_TOO_LARGE", Kind.TOO_LARGE, "The body is larger than the documented maximum.")
NotFound = error("NOT_FOUND", Kind.NOT_FOUND, "No such resource.")
Unavailable = error("TRY_AGAIN", Kind.UNAVAILABLE, "Too much contention; retry the same request.")

# Auth
Unauthenticated = error("UNAUTHENTICATED", Kind.UNAUTHENTICATED, "No valid session token.")
Forbidden = error("FORBIDDEN", Kind.FORBIDDEN, "The caller may not do this.")
CodeRefused = error("WXACODE_REFUSED", Kind.UNAVAILABLE,
                    "WeChat refused to draw a mini-program code (a page not published, a bad scene): see the logs.")
LoginSceneNotFound = error("LOGIN_SCENE_NOT_FOUND", Kind.NOT_FOUND, "No console sign-in is waiting for this scene.")
LoginSceneExpired = error("LOGIN_SCENE_EXPIRED", Kind.CONFLICT,
                          "The console sign-in code is older than 2 minutes; reload the console's sign-in page.")
LoginSceneUsed = error("LOGIN_SCENE_USED", Kind.CONFLICT, "The console sign-in code was confirmed or used already.")
WechatLoginFailed = error("WECHAT_LOGIN_FAILED", Kind.UNAUTHENTICATED, "WeChat refused the login code.")

# Distributors and the referral network
ContentBlocked = error("CONTENT_BLOCKED", Kind.INVALID, "The text contains forbidden wording.")
AlreadyDistributor = error("ALREADY_DISTRIBUTOR", Kind.CONFLICT, "The user already has a shop.")
NotAllowedToPromote = error("NOT_ALLOWED_TO_PROMOTE", Kind.FORBIDDEN, "The operator's rules do not let this user promote.")
InviteCodeNotFound = error("INVITE_CODE_NOT_FOUND", Kind.NOT_FOUND, "No distributor has this invite code.")
AlreadyBound = error("ALREADY_BOUND", Kind.CONFLICT, "The user is bound to a distributor already.")
NotANewUser = error("NOT_A_NEW_USER", Kind.CONFLICT, "Only users without a paid order can be bound.")
SelfReferral = error("SELF_REFERRAL", Kind.INVALID, "A user cannot bind to themselves.")
ReferralCycle = error("REFERRAL_CYCLE", Kind.INVALID, "The binding would make a loop in the referral tree.")
TeamTooLarge = error("TEAM_TOO_LARGE", Kind.CONFLICT, "The user's downline is too large to move in one binding.")

# Content: moderation, the review queue, the material library (docs/moderation.md)
TextTooLong = error("TEXT_TOO_LONG", Kind.INVALID, "A text is longer than its documented maximum.")
InvalidLexicon = error("INVALID_LEXICON", Kind.INVALID, "A lexicon entry is malformed, duplicated or over a limit.")
LexiconChanged = error("LEXICON_CHANGED", Kind.CONFLICT, "The lexicon changed since the version the edit was based on.")
ReviewNotFound = error("REVIEW_NOT_FOUND", Kind.NOT_FOUND, "No such item in the review queue.")
AlreadyDecided = error("ALREADY_DECIDED", Kind.CONFLICT, "The review item was approved or rejected already.")
MaterialNotFound = error("MATERIAL_NOT_FOUND", Kind.NOT_FOUND, "No published material has this id.")
NotADistributor = error("NOT_A_DISTRIBUTOR", Kind.FORBIDDEN, "Only distributors (users with a shop) may do this.")


# Runtime settings (docs/settings.md)
InvalidRules = error("INVALID_RULES", Kind.INVALID, "The rules break a rule of their own; every reason is listed.")
VersionConflict = error("VERSION_CONFLICT", Kind.CONFLICT, "The settings changed since the version the edit was based on.")
SettingsVersionNotFound = error("SETTINGS_VERSION_NOT_FOUND", Kind.NOT_FOUND, "No saved settings version has this number.")

class ConcurrentUpdate(DomainError):
    """A conditional write lost to a concurrent change; the use case reads again and re-decides."""

    code = "TRY_AGAIN"
    kind = Kind.UNAVAILABLE
