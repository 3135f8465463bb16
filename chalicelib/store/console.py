"""The console's login scenes and sessions (items of the admin table, ``store/admin.py``).

| pattern | key | operation |
|---|---|---|
| a new login scene | ``console#scene#<scene>`` / ``scene`` | PutItem, absent |
| read a scene (the waiting page, a confirmation) | same | GetItem, consistent |
| an admin confirms it (+ the audit entry) | same: ``waiting`` and younger than 2 min | TransactWriteItems |
| the browser turns it into a session | scene ``confirmed``, its secret's hash; session absent | TransactWriteItems |
| a request's session | ``console#session#<hash>`` / ``session`` | GetItem, consistent |
| the session's last request (≤ once a minute) | same, present | UpdateItem |
| sign-out (+ the audit entry) | same | TransactWriteItems: delete + put |

Every key is its own partition (a random scene, a session's hash): no key takes the writes of
every sign-in. An item's ``expires_at`` (the table's TTL) lets DynamoDB delete it a day after it
can no longer be used; the code never trusts the TTL (deletion lags) and checks times itself.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.console import LOGIN_TTL, LoginScene, SceneStatus, Session
from chalicelib.domain.invariants import present
from chalicelib.store.admin import AdminItem
from chalicelib.store.audit import entry_put
from chalicelib.store.base import condition_failed, transaction_failure

SCENE, SESSION = "scene", "session"
KEEP = timedelta(days=1)  # how long after its end an item may stay before the TTL deletes it


def _scene_pk(scene: str) -> str:
    return f"console#scene#{scene}"


def _session_pk(session_hash: str) -> str:
    return f"console#session#{session_hash}"


def _connection() -> object:
    return AdminItem._get_connection().connection


def _session_item(session: Session) -> AdminItem:
    return AdminItem(_session_pk(session.session_hash), SESSION, admin_id=session.admin_id, csrf=session.csrf_token,
                     created=session.created_at, seen=session.last_seen, expires_at=session.expires_at() + KEEP)


class ConsoleStore:
    def put_scene(self, scene: LoginScene) -> None:
        AdminItem(_scene_pk(scene.scene), SCENE, status=scene.status.value, secret_hash=scene.browser_hash,
                  created=scene.created_at, expires_at=scene.expires_at + KEEP).save(
            condition=AdminItem.pk.does_not_exist())

    def scene(self, scene: str) -> LoginScene | None:
        try:
            item = AdminItem.get(_scene_pk(scene), SCENE, consistent_read=True)
        except AdminItem.DoesNotExist:
            return None
        return LoginScene(scene, item.secret_hash or "", SceneStatus(item.status),
                          present(item.created, "a scene's creation"), item.admin_id)

    def confirm(self, scene: str, admin_id: str, now: datetime, entry: AuditEntry) -> bool:
        """``waiting`` → ``confirmed`` by ``admin_id`` with its audit entry, if the scene is
        waiting and not expired at ``now``; False (nothing written) otherwise."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(AdminItem(_scene_pk(scene), SCENE),
                          actions=[AdminItem.status.set(SceneStatus.CONFIRMED.value), AdminItem.admin_id.set(admin_id)],
                          condition=(AdminItem.status == SceneStatus.WAITING.value) & (AdminItem.created > now - LOGIN_TTL))
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(AdminItem.Meta.table_name, pk=_scene_pk(scene), sk=SCENE):
                return False
            raise failure from exc
        return True

    def redeem(self, scene: str, browser_hash: str, session: Session) -> bool:
        """``confirmed`` → ``used`` by the browser holding the scene's secret, with the new session
        (the sign-in's audit entry was written by the confirmation); False (nothing written) when the scene is not confirmed,
        already used or another browser's."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(AdminItem(_scene_pk(scene), SCENE), actions=[AdminItem.status.set(SceneStatus.USED.value)],
                          condition=(AdminItem.status == SceneStatus.CONFIRMED.value)
                          & (AdminItem.secret_hash == browser_hash) & (AdminItem.admin_id == session.admin_id))
                tx.save(_session_item(session), condition=AdminItem.pk.does_not_exist())
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(AdminItem.Meta.table_name, pk=_scene_pk(scene), sk=SCENE):
                return False
            raise failure from exc
        return True

    def open_session(self, session: Session, entry: AuditEntry) -> None:
        """A session begun without a scene (the development sign-in), with its audit entry."""
        with TransactWrite(connection=_connection()) as tx:
            tx.save(_session_item(session), condition=AdminItem.pk.does_not_exist())
            entry_put(tx, entry)

    def session(self, session_hash: str) -> Session | None:
        try:
            item = AdminItem.get(_session_pk(session_hash), SESSION, consistent_read=True)
        except AdminItem.DoesNotExist:
            return None
        return Session(session_hash, item.admin_id or "", item.csrf or "",
                       present(item.created, "a session's start"), present(item.seen, "a session's last request"))

    def touch(self, session: Session, now: datetime) -> bool:
        """Record a request of a session that still exists; False when it was ended meanwhile."""
        moved = Session(session.session_hash, session.admin_id, session.csrf_token, session.created_at, now)
        try:
            AdminItem(_session_pk(session.session_hash), SESSION).update(
                actions=[AdminItem.seen.set(now), AdminItem.expires_at.set(moved.expires_at() + KEEP)],
                condition=AdminItem.pk.exists())
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def end(self, session_hash: str, entry: AuditEntry | None) -> None:
        """Delete a session (sign-out with its audit entry; an expired one without)."""
        if entry is None:
            AdminItem(_session_pk(session_hash), SESSION).delete()
            return
        with TransactWrite(connection=_connection()) as tx:
            tx.delete(AdminItem(_session_pk(session_hash), SESSION))
            entry_put(tx, entry)
