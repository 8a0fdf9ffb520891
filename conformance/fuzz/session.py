"""The fuzzer's connection to the server: sends steps as the acting user, logs them with IDs masked,
remembers every project, app and global workflow it made and every job and analysis it started so that
cleanup can end them."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from ..engine.transport import Transport
from ..model import Exchange
from .config import FuzzConfig
from .executables import ANALYSIS_STARTING_ROUTES, GLOBAL_MAKING_ROUTES, JOB_STARTING_ROUTES
from .steps import Step

PROJECT_NEW = "/project/new"
JOB_TERMINATE = "/job-xxxx/terminate"
ANALYSIS_TERMINATE = "/analysis-xxxx/terminate"
# Answers to a terminate (a delete) in cleanup that leave nothing running: it had ended (been deleted), or is gone.
ENDED_ALREADY = frozenset({"InvalidState", "ResourceNotFound"})


class Session:
    """One run's HTTP side. `requests` is the log of what was sent, with every ID the run made (and the run
    prefix) replaced by its slot name, so that two runs with one seed can be compared line by line."""

    def __init__(self, config: FuzzConfig):
        self.config = config
        self.transport = Transport(config.base_url, config.tokens, timeout=config.timeout)
        self.user = config.acting_user
        self.aliases: dict[str, str] = {config.run_prefix: "<run>"}
        self.requests: list[str] = []
        self.projects: list[str] = []      # every project the run made, in order
        self.jobs: list[str] = []          # every job the run started, in order
        self.analyses: list[str] = []      # every analysis the run started, in order
        self.globals: list[str] = []       # every app and global workflow the run made, in order
        self.sent = 0

    def close(self) -> None:
        self.transport.close()

    # -- sending ------------------------------------------------------------------------------------------
    def call(self, path: str, body: bytes, route: str, user: str | None = None) -> Exchange:
        exchange = self.transport.call(path, user=user or self.user, raw_body=body, route=route)
        self.sent += 1
        self._log("POST", path, body)
        if route == PROJECT_NEW:
            created = answer_id(exchange)
            if created and created not in self.projects:
                self.projects.append(created)
        else:
            for routes, made, label in ((JOB_STARTING_ROUTES, self.jobs, "job"),
                                        (ANALYSIS_STARTING_ROUTES, self.analyses, "analysis"),
                                        (GLOBAL_MAKING_ROUTES, self.globals, "global")):
                created = answer_id(exchange) if route in routes else None
                if created and created not in made:
                    made.append(created)
                    self.name(created, f"{label}@{len(made)}")
        return exchange

    def send(self, step: Step, bindings: MutableMapping[str, str]) -> Exchange:
        """Send one step (placeholders bound from `bindings`); bind `step.creates` to the answer's id."""
        exchange = self.call(step.path(bindings), step.payload(bindings), step.route)
        created = answer_id(exchange)
        if step.creates and created:
            bindings[step.creates] = created
            self.name(created, step.creates)
        return exchange

    def fetch(self, url: str, method: str, headers: dict[str, str], body: bytes) -> Exchange:
        """A request to a URL the server handed out: the transport never sends a token there."""
        exchange = self.transport.fetch(url, method=method, headers=headers, body=body)
        self.requests.append(f"{method} <URL handed out by the server> {len(body)} bytes")
        return exchange

    # -- the log ------------------------------------------------------------------------------------------
    def name(self, concrete: str, alias: str) -> None:
        self.aliases[concrete] = f"<{alias}>"

    def mask(self, text: str) -> str:
        for concrete, alias in self.aliases.items():
            if concrete in text:
                text = text.replace(concrete, alias)
        return text

    def _log(self, method: str, path: str, body: bytes) -> None:
        self.requests.append(self.mask(f"{method} {path} {body.decode('utf-8', errors='replace')}"))

    # -- cleanup ------------------------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """End everything the run started: its jobs and analyses, its apps and global workflows, then its
        projects; the problems met, as text."""
        return self.terminate_jobs() + self.terminate_analyses() + self.delete_globals() + self.destroy_projects()

    def terminate_jobs(self) -> list[str]:
        """Terminate every job the run started, newest first (one that has ended already is no problem)."""
        return self._end_each(self.jobs, "terminate", JOB_TERMINATE)

    def terminate_analyses(self) -> list[str]:
        """Terminate every analysis the run started, newest first (one that has ended already is no problem)."""
        return self._end_each(self.analyses, "terminate", ANALYSIS_TERMINATE)

    def delete_globals(self) -> list[str]:
        """Delete every app and global workflow the run made (they are in no project), newest first; as any
        configured user, since a fuzzed call may have made another user its developer instead of this one."""
        problems = []
        for made in reversed(self.globals):
            route = f"/{made.split('-', 1)[0]}-xxxx/delete"
            for user in (self.user, *(u for u in self.config.tokens if u != self.user)):
                exchange = self.call(f"/{made}/delete", b"{}", route, user=user)
                if _ended(exchange):
                    break
            else:
                problems.append(f"{made}: delete answered {_status(exchange)}")
        self.globals.clear()
        return problems

    def _end_each(self, ids: list[str], method: str, route: str) -> list[str]:
        problems = []
        for made in reversed(ids):
            exchange = self.call(f"/{made}/{method}", b"{}", route)
            if not _ended(exchange):
                problems.append(f"{made}: {method} answered {_status(exchange)}")
        ids.clear()
        return problems

    def destroy_projects(self) -> list[str]:
        """Destroy every project the run made, newest first; the problems met, as text."""
        problems = []
        for project in reversed(self.projects):
            exchange = self.call(f"/{project}/destroy", b'{"terminateJobs": true}', "/project-xxxx/destroy")
            status = exchange.response.status if exchange.response is not None else None
            if status != 200 and not _already_gone(exchange):
                problems.append(f"{project}: destroy answered {status or exchange.error}")
        self.projects.clear()
        return problems


def answer_id(exchange: Exchange) -> str | None:
    """The `id` of a successful JSON answer, if it is a string."""
    response = exchange.response
    if response is None or not 200 <= response.status < 300:
        return None
    body = response.json
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


def _error_type(exchange: Exchange) -> str | None:
    body: Any = exchange.response.json if exchange.response is not None else None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("type") if isinstance(error, dict) else None


def _ended(exchange: Exchange) -> bool:
    status = exchange.response.status if exchange.response is not None else None
    return status == 200 or _error_type(exchange) in ENDED_ALREADY


def _status(exchange: Exchange) -> Any:
    return (exchange.response.status if exchange.response is not None else None) or exchange.error


def _already_gone(exchange: Exchange) -> bool:
    return _error_type(exchange) == "ResourceNotFound"


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
