"""Cleanup at the end of a run: destroy exactly what the run created, never anything else; idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import Exchange
from .tracker import DELETABLE

if TYPE_CHECKING:
    from .session import RunSession

REMOVE_BATCH = 500


@dataclass
class CleanupReport:
    """What cleanup removed and what it could not (each with the server's reason); with --keep, nothing is
    removed and `kept` is what the run left (the tracker's snapshot: projects, objects and folders in other
    projects, global objects, each with the user who made it)."""

    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    kept: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"removed": list(self.removed), "failed": list(self.failed)}
        if self.kept is not None:
            record["kept"] = self.kept
        return record


def keep_all(session: RunSession) -> CleanupReport:
    """--keep: remove nothing (no cleanup hooks either: a `scope: run` fixture's `finally` would destroy what
    it made); report what the run created and still holds."""
    return CleanupReport(kept=session.tracker.snapshot())


def _call(session: RunSession, report: CleanupReport, path: str, body: dict, user: str) -> bool:
    user = user if user in session.transport.tokens else session.default_user
    matched = session.spec.match(path)
    route = matched.route if matched is not None else None
    exchange = session.transport.call(path, user=user, json_body=body, route=route)
    report.exchanges.append(exchange)
    session.tracker.observe(exchange, route, user)
    response = exchange.response
    if response is not None and exchange.error is None and 200 <= response.status < 300:
        return True
    # Gone already (a case removed it, or the server lost it): nothing left to remove.
    body_json = response.json if response is not None else None
    if isinstance(body_json, dict) and isinstance(body_json.get("error"), dict) \
            and body_json["error"].get("type") == "ResourceNotFound":
        return True
    reason = exchange.error.message if exchange.error else f"{response.status} {response.text[:160]}"
    report.failed.append(f"{path} {body}: {session.redactor.scrub(reason)}")
    return False


def _remove_objects(session: RunSession, report: CleanupReport, project: str, objects: dict[str, str]) -> None:
    by_user: dict[str, list[str]] = {}
    for obj, user in objects.items():
        by_user.setdefault(user, []).append(obj)
    for user, ids in by_user.items():
        for start in range(0, len(ids), REMOVE_BATCH):
            batch = ids[start:start + REMOVE_BATCH]
            failed_before = len(report.failed)
            if _call(session, report, f"/{project}/removeObjects", {"objects": batch, "force": True}, user):
                report.removed.extend(f"{project}:{obj}" for obj in batch)
                session.tracker.forget_objects(project, batch)
                continue
            # One bad ID can refuse the whole batch: try them one by one, keeping the batch's reason.
            del report.failed[failed_before:]
            for obj in batch:
                if _call(session, report, f"/{project}/removeObjects", {"objects": [obj], "force": True}, user):
                    report.removed.append(f"{project}:{obj}")
                    session.tracker.forget_objects(project, [obj])


def _remove_folders(session: RunSession, report: CleanupReport, project: str, folders: dict[str, str]) -> None:
    # Deepest first and without recurse: a folder still holding something the run did not create stays.
    for folder in sorted(folders, key=lambda f: (-f.count("/"), f)):
        if _call(session, report, f"/{project}/removeFolder", {"folder": folder, "recurse": False}, folders[folder]):
            report.removed.append(f"{project}:{folder}")
            session.tracker.forget_folder(project, folder)


def clean_up(session: RunSession) -> CleanupReport:
    """Run the session's cleanup hooks (the runner's: pending `finally` steps of `scope: run` fixtures), then
    remove what the tracker holds: objects and folders the run made in projects it did not create, then the
    projects it created (destroyed whole)."""
    report = CleanupReport()
    for hook in list(session.cleanup_hooks):
        hook(session, report)
    snapshot = session.tracker.snapshot()
    for project, track in snapshot["in_projects"].items():
        _remove_objects(session, report, project, track["objects"])
        _remove_folders(session, report, project, track["folders"])
    for project, user in snapshot["projects"].items():
        if _call(session, report, f"/{project}/destroy", {"terminateJobs": True}, user):
            report.removed.append(project)
            session.tracker.forget_project(project)
    for obj, user in snapshot["global_objects"].items():
        if obj.split("-", 1)[0] not in DELETABLE:
            report.failed.append(f"{obj}: created outside any project; the run cannot remove it")
        elif _call(session, report, f"/{obj}/delete", {}, user):
            report.removed.append(obj)
    session.tracker.global_objects.clear()
    return report
