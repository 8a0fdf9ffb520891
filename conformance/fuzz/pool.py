"""The pool: objects the run makes for itself, by slot name. Fuzzed IDs are only ever drawn from here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from .bridge import CORE
from .executables import APPLET_NEW, APPLET_RUN, DXAPI, POOL_RUN_SPEC, WORKFLOW_RUN
from .session import Session, answer_id, dumps
from .steps import Step, placeholder

# Classes the run can make, and the pool slots that hold one of each kind.
OBJECT_SLOTS = {
    "project": ("project", "project_home"),
    "file": ("file_open", "file_closed"),
    "record": ("record_open", "record_closed"),
    "applet": ("applet",),
    "job": ("job",),
    "workflow": ("workflow", "workflow_closed"),
    "analysis": ("analysis",),
    "app": ("app",),
    "globalworkflow": ("globalworkflow",),
}
WORKFLOWS = "workflows"
APPS = "apps"
POOL_STAGE = "fuzz_stage"
POOL_VERSION = "1.0.0"
UPLOAD_BYTES = b"fuzz!"
_SLOT_CLASS = re.compile(r"^([a-z]+)")


class PoolError(RuntimeError):
    """The server refused to make the objects fuzzing works on: nothing can be fuzzed against it."""


def slot_class(slot: str) -> str:
    """'file_open' -> 'file', 'record#2' -> 'record', 'user_other0' -> 'user'."""
    match = _SLOT_CLASS.match(slot)
    return match.group(1) if match else slot


@dataclass
class Slots:
    """Which slots a fuzzed ID of each class may name. `users_as_keys` leaves out the acting user: a key
    naming a member (decreasePermissions) must never strip the run of its own access."""

    by_class: dict[str, tuple[str, ...]] = field(default_factory=dict)
    users_as_keys: tuple[str, ...] = ()

    def for_class(self, cls: str) -> tuple[str, ...]:
        if cls == "container" and not self.by_class.get("container"):
            return self.by_class.get("project", ())   # a project ID is a valid containerId
        if cls == "org":
            return self.by_class.get("user", ())
        return self.by_class.get(cls, ())

    def with_created(self, created: dict[str, list[str]]) -> Slots:
        merged = {cls: tuple(created.get(cls, ())) + slots for cls, slots in self.by_class.items()}
        return Slots(merged, self.users_as_keys)


# (base URL, token) -> the user ID whoami answered: the many fuzzing runs of one `dxconform run` (one per
# item) ask once per user, not once per run (the answer is not logged: the request log does not change).
_USER_IDS: dict[tuple[str, str], str] = {}


class PoolBuilder:
    """Makes the run's home project once, then one small pool per route: a project with an open and a
    closing file, an open and a closed record, in folder /fuzz; for the routes of the other profiles also an
    applet (fixed harmless code, no inputSpec) and a job of it that waits on the open record (it never runs);
    for the workflows and apps routes an open workflow of one stage of that applet and an analysis of it that
    waits on the open record; for the apps routes an unpublished app of the applet and an unpublished global
    workflow of a closed copy of the workflow (named with the run prefix: app names are global)."""

    def __init__(self, session: Session, containers: tuple[str, ...] = ()):
        self.session = session
        self.prefix = session.config.run_prefix
        self.containers = containers
        self.base: dict[str, str] = {}
        self.user_slots: tuple[str, ...] = ()
        self.other_user_slots: tuple[str, ...] = ()

    def start(self, home: bool = True) -> None:
        """Learn the users' IDs and make the home project `<prefix>` (the run's own, destroyed at the end);
        with `home` False, the home project is made by the first pool whose classes need a second project."""
        config = self.session.config
        for index, (name, token) in enumerate(config.tokens.items()):
            user_id = _USER_IDS.get((config.base_url, token))
            if user_id is None:
                exchange = self.session.transport.call("/system/whoami", user=name, route="/system/whoami")
                user_id = answer_id(exchange)
                if user_id is None:
                    raise PoolError(f"/system/whoami as {name} failed: {_status(exchange)}")
                _USER_IDS[(config.base_url, token)] = user_id
            slot = "user_self" if name == self.session.user else f"user_other{index}"
            self.base[slot] = user_id
        self.user_slots = tuple(sorted(s for s in self.base if s.startswith("user_")))
        self.other_user_slots = tuple(s for s in self.user_slots if s != "user_self")
        if home:
            self._make_home()
        for index, container in enumerate(self.containers):
            self.base[f"container{index}"] = container
            self.session.name(container, f"container{index}")

    def _make_home(self) -> None:
        home = self._make(Step("/project/new", body={"name": self.prefix}, creates="project_home"), self.base)
        self.session.name(home, "project_home")

    def slots(self, bindings: dict[str, str]) -> Slots:
        by_class = {cls: tuple(s for s in slots if s in bindings) for cls, slots in OBJECT_SLOTS.items()}
        by_class["user"] = self.user_slots
        by_class["container"] = tuple(s for s in bindings if s.startswith("container"))
        return Slots(by_class, self.other_user_slots or ("user_self",))

    def make(self, tag: str, profiles: Collection[str] = (), classes: Collection[str] | None = None) -> dict[str, str]:
        """A fresh pool for one route (or the stateful run): slot -> ID, plus the home project and users;
        with `profiles` beyond core, an applet and a waiting job too, and what the workflows and apps
        profiles' routes work on (see the class). `classes`, when given, are the classes the route's calls
        name (its subject's, the IDs in its bodies): of core's, only those are made (always the project
        that holds them; the home project only for a route that names a project or container)."""
        if classes is not None and "project_home" not in self.base and {"project", "container"} & set(classes):
            self._make_home()
        bindings = dict(self.base)
        project = placeholder("project")
        self._make(Step("/project/new", body={"name": f"{self.prefix}-{tag}"}, creates="project"), bindings)
        if classes is None or "file" in classes:
            self._files(bindings)
        if classes is None or "record" in classes:
            self._records(bindings)
        extra = set(profiles) - {CORE}
        if extra:
            self._make(Step(APPLET_NEW, body={"project": project, "name": "fuzz-applet", "folder": "/fuzz",
                                              "dxapi": DXAPI, "runSpec": POOL_RUN_SPEC}, creates="applet"), bindings)
            self._make(Step(APPLET_RUN, subject="applet",
                            body={"project": project, "input": {}, "name": "fuzz-waiting-job",
                                  "dependsOn": [placeholder("record_open")]}, creates="job"), bindings)
        if extra & {WORKFLOWS, APPS}:
            self._workflows(bindings)
        if APPS in extra:
            self._apps(tag, bindings)
        return bindings

    def _files(self, bindings: dict[str, str]) -> None:
        """An open file and a closed one (one part uploaded), in folder /fuzz of the pool's project."""
        project = placeholder("project")
        self._make(Step("/file/new", body={"project": project, "name": "fuzz-open.txt", "folder": "/fuzz",
                                           "parents": True}, creates="file_open"), bindings)
        self._make(Step("/file/new", body={"project": project, "name": "fuzz-closing.txt", "folder": "/fuzz"},
                        creates="file_closed"), bindings)
        self._upload_and_close(bindings)

    def _records(self, bindings: dict[str, str]) -> None:
        """An open record (with details) and a closed one, in folder /fuzz of the pool's project."""
        project = placeholder("project")
        self._make(Step("/record/new", body={"project": project, "name": "fuzz-open-record", "folder": "/fuzz",
                                             "parents": True, "details": {"fuzz": True}}, creates="record_open"),
                   bindings)
        self._make(Step("/record/new", body={"project": project, "name": "fuzz-closed-record", "folder": "/fuzz",
                                             "parents": True, "close": True}, creates="record_closed"), bindings)

    def _workflows(self, bindings: dict[str, str]) -> None:
        """An open workflow of one stage of the pool's applet, and its analysis waiting on the open record."""
        project = placeholder("project")
        stages = [{"id": POOL_STAGE, "executable": placeholder("applet")}]
        self._make(Step("/workflow/new", body={"project": project, "name": "fuzz-workflow", "folder": "/fuzz",
                                               "stages": stages}, creates="workflow"), bindings)
        self._make(Step(WORKFLOW_RUN, subject="workflow",
                        body={"project": project, "input": {}, "name": "fuzz-waiting-analysis",
                              "dependsOn": [placeholder("record_open")]}, creates="analysis"), bindings)
        self._make(Step("/workflow/new", body={"project": project, "name": "fuzz-closed-workflow", "folder": "/fuzz",
                                               "stages": stages}, creates="workflow_closed"), bindings)
        self.session.send(Step("/workflow-xxxx/close", subject="workflow_closed"), bindings)

    def _apps(self, tag: str, bindings: dict[str, str]) -> None:
        """An app of the pool's applet and a global workflow of the closed workflow, both unpublished, named
        after the pool's project (unique: several runs of one prefix each make a pool of the same tag)."""
        name = f"{self.prefix}-{tag}-{bindings['project']}"
        self._make(Step("/app/new", body={"applet": placeholder("applet"), "name": name, "version": POOL_VERSION},
                        creates="app"), bindings)
        described = self.session.send(Step("/project-xxxx/describe", subject="project",
                                           body={"fields": {"region": True}}), bindings)
        answer = described.response.json if described.response is not None else None
        region = answer.get("region") if isinstance(answer, dict) else None
        if not isinstance(region, str):
            raise PoolError(f"/project-xxxx/describe for the fuzzing pool gave no region: {_status(described)}")
        options = {region: {"workflow": placeholder("workflow_closed")}}
        self._make(Step("/globalworkflow/new", body={"name": name, "version": POOL_VERSION, "regionalOptions": options},
                        creates="globalworkflow"), bindings)

    def _make(self, step: Step, bindings: dict[str, str]) -> str:
        exchange = self.session.send(step, bindings)
        if step.creates not in bindings:
            raise PoolError(f"{step.route} for the fuzzing pool failed: {_status(exchange)}")
        return bindings[step.creates]

    def _upload_and_close(self, bindings: dict[str, str]) -> None:
        """One part uploaded to file_closed, then close: the upload URL is fetched without any token."""
        md5 = hashlib.md5(UPLOAD_BYTES).hexdigest()  # noqa: S324 - the API's part checksum is MD5
        upload = self.session.send(Step("/file-xxxx/upload", subject="file_closed",
                                        body={"index": 1, "size": len(UPLOAD_BYTES), "md5": md5}), bindings)
        answer = upload.response.json if upload.response is not None else None
        if isinstance(answer, dict) and isinstance(answer.get("url"), str):
            headers = {k: v for k, v in (answer.get("headers") or {}).items() if isinstance(v, str)}
            self.session.fetch(answer["url"], "PUT", headers, UPLOAD_BYTES)
        self.session.call(Step("/file-xxxx/close", subject="file_closed").path(bindings), dumps({}),
                          "/file-xxxx/close")


def _status(exchange) -> str:
    if exchange.response is None:
        return f"no answer ({exchange.error})"
    return f"HTTP {exchange.response.status} {exchange.response.text[:200]}"
