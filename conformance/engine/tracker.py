"""The tracker: everything the run created (projects, objects, folders), read from the server's answers."""

from __future__ import annotations

import posixpath
import threading
from dataclasses import dataclass, field
from typing import Any

from ..model import Exchange

# Classes whose /new answer is an object living in a project (body `project`); others are global.
PROJECT_SCOPED = frozenset({"file", "record", "applet", "workflow", "database"})
# Global classes the run can remove again: /<id>/delete (apps and global workflows, EXECUTABLES-DIGEST 1).
DELETABLE = frozenset({"app", "globalworkflow"})


@dataclass
class ProjectTrack:
    """What the run created inside one project it did not create itself (e.g. the user's --project)."""

    objects: dict[str, str] = field(default_factory=dict)      # object id -> user who created it
    folders: dict[str, str] = field(default_factory=dict)      # folder path -> user who created it

    def empty(self) -> bool:
        return not self.objects and not self.folders


def _folder_chain(folder: str, prefix: str, parents: bool) -> list[str]:
    """The folders a call with `folder` (and `parents`) may have created that are surely this run's:
    the folder itself, and, with parents, every ancestor whose name starts with the run prefix."""
    folder = "/" + folder.strip("/")
    if folder == "/":
        return []
    chain = [folder]
    if parents:
        parent = posixpath.dirname(folder)
        while parent != "/" and posixpath.basename(parent).startswith(prefix):
            chain.append(parent)
            parent = posixpath.dirname(parent)
    return chain


class Tracker:
    """Records what successful calls created; forgets what the run itself destroyed. Thread-safe."""

    def __init__(self, run_prefix: str):
        self.run_prefix = run_prefix
        self.projects: dict[str, str] = {}                # project id -> user who created it
        self.in_projects: dict[str, ProjectTrack] = {}    # other project id -> what the run made in it
        self.global_objects: dict[str, str] = {}          # created outside any project (apps: deletable)
        self._lock = threading.Lock()

    def observe(self, exchange: Exchange, route: str | None, user: str | None) -> None:
        """Read one API exchange: a 2xx answer to a creating or removing route updates the record."""
        response = exchange.response
        if route is None or response is None or not 200 <= response.status < 300 or exchange.error is not None:
            return
        sent, answer = exchange.request.json, response.json
        sent = sent if isinstance(sent, dict) else {}
        answer = answer if isinstance(answer, dict) else {}
        subject = exchange.request.path.split("/")[1] if exchange.request.path.count("/") >= 2 else ""
        method = route.rsplit("/", 1)[-1]
        with self._lock:
            handler = getattr(self, f"_on_{method}", None)
            if route.endswith("/new") and route.count("/") == 2:
                self._on_new(route.split("/")[1], sent, answer, user)
            elif method == "delete" and route.split("/")[1].removesuffix("-xxxx") in DELETABLE:
                self.global_objects.pop(subject, None)
            elif handler is not None and route.startswith(("/project-xxxx/", "/container-xxxx/")):
                handler(subject, sent, answer, user)

    # -- creating ---------------------------------------------------------------------------------------

    def _track(self, project: str) -> ProjectTrack:
        return self.in_projects.setdefault(project, ProjectTrack())

    def _on_new(self, cls: str, sent: dict, answer: dict, user: str | None) -> None:
        created = answer.get("id")
        if not isinstance(created, str):
            return
        if cls == "project":
            self.projects[created] = user or ""
            return
        project = sent.get("project")
        if cls in PROJECT_SCOPED and isinstance(project, str):
            if project not in self.projects:
                track = self._track(project)
                track.objects[created] = user or ""
                if isinstance(sent.get("folder"), str):
                    for folder in _folder_chain(sent["folder"], self.run_prefix, bool(sent.get("parents"))):
                        track.folders.setdefault(folder, user or "")
        else:
            self.global_objects[created] = user or ""

    def _on_newFolder(self, project: str, sent: dict, answer: dict, user: str | None) -> None:  # noqa: N802
        if project in self.projects or not isinstance(sent.get("folder"), str):
            return
        for folder in _folder_chain(sent["folder"], self.run_prefix, bool(sent.get("parents"))):
            self._track(project).folders.setdefault(folder, user or "")

    def _on_clone(self, source: str, sent: dict, answer: dict, user: str | None) -> None:
        # The copies made in the destination are the requested objects it did not already hold.
        destination = sent.get("project")
        if not isinstance(destination, str) or destination in self.projects:
            return
        existed = set(answer.get("exists") or [])
        for obj in sent.get("objects") or []:
            if isinstance(obj, str) and obj not in existed:
                self._track(destination).objects.setdefault(obj, user or "")

    # -- the run's own removals and renames --------------------------------------------------------------

    def _on_destroy(self, project: str, sent: dict, answer: dict, user: str | None) -> None:
        self.projects.pop(project, None)
        self.in_projects.pop(project, None)

    def _on_removeObjects(self, project: str, sent: dict, answer: dict, user: str | None) -> None:  # noqa: N802
        track = self.in_projects.get(project)
        if track:
            for obj in sent.get("objects") or []:
                track.objects.pop(obj, None)

    def _on_removeFolder(self, project: str, sent: dict, answer: dict, user: str | None) -> None:  # noqa: N802
        track, folder = self.in_projects.get(project), sent.get("folder")
        if track and isinstance(folder, str):
            folder = "/" + folder.strip("/")
            for tracked in list(track.folders):
                if tracked == folder or tracked.startswith(folder.rstrip("/") + "/"):
                    del track.folders[tracked]

    def _on_renameFolder(self, project: str, sent: dict, answer: dict, user: str | None) -> None:  # noqa: N802
        folder, name = sent.get("folder"), sent.get("name")
        if isinstance(folder, str) and isinstance(name, str):
            folder = "/" + folder.strip("/")
            self._relocate(project, folder, posixpath.join(posixpath.dirname(folder), name))

    def _on_move(self, project: str, sent: dict, answer: dict, user: str | None) -> None:
        destination = sent.get("destination")
        if not isinstance(destination, str):
            return
        for folder in sent.get("folders") or []:
            if isinstance(folder, str):
                folder = "/" + folder.strip("/")
                self._relocate(project, folder, posixpath.join(destination, posixpath.basename(folder)))

    def _relocate(self, project: str, old: str, new: str) -> None:
        track = self.in_projects.get(project)
        if not track:
            return
        for tracked in list(track.folders):
            if tracked == old or tracked.startswith(old + "/"):
                track.folders[new + tracked[len(old):]] = track.folders.pop(tracked)

    # -- forgetting what cleanup removed (also when the server said it was gone already) -----------------

    def forget_project(self, project: str) -> None:
        with self._lock:
            self._on_destroy(project, {}, {}, None)

    def forget_objects(self, project: str, objects: list[str]) -> None:
        with self._lock:
            self._on_removeObjects(project, {"objects": objects}, {}, None)

    def forget_folder(self, project: str, folder: str) -> None:
        with self._lock:
            track = self.in_projects.get(project)
            if track:
                track.folders.pop(folder, None)

    # -- reading ----------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy, for reports and tests."""
        with self._lock:
            return {"projects": dict(self.projects),
                    "in_projects": {p: {"objects": dict(t.objects), "folders": dict(t.folders)}
                                    for p, t in self.in_projects.items() if not t.empty()},
                    "global_objects": dict(self.global_objects)}
