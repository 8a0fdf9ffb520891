"""Token hygiene of the process's own output channels: stdout, stderr, logging and warnings, through one Redactor.

`with guard_outputs(tokens) as guard:` installs, for its duration:

- scrubbing wrappers over `sys.stdout` and `sys.stderr` (a line is written once complete, or at `flush()`,
  so a token split over two writes of one line is still caught);
- a log-record factory: a record whose message holds a token gets the scrubbed message (and a scrubbed
  traceback), before any handler sees it: pytest's captured logs, the lastResort handler, any library's;
- a `warnings.formatwarning` that scrubs what it formats (Python's own display of warnings and pytest's
  warnings summary both go through it).

`guard.add(tokens)` adds tokens learned later (the embedded server's). Guards nest: an inner one adds its
tokens to the outer one. Files are not this module's concern: each writer scrubs what it writes.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from .redaction import Redactor, redactor


class ScrubbingStream(io.TextIOBase):
    """A text stream that writes through to `target` with every token scrubbed, a line at a time."""

    def __init__(self, target: TextIO, guard: OutputGuard):
        self.target = target
        self._guard = guard
        self._pending = ""
        self._lock = threading.RLock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            cut = self._pending.rfind("\n") + 1
            if cut:
                ready, self._pending = self._pending[:cut], self._pending[cut:]
                self.target.write(self._guard.redactor.scrub(ready))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                ready, self._pending = self._pending, ""
                self.target.write(self._guard.redactor.scrub(ready))
            self.target.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.target, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


class OutputGuard:
    """The tokens being guarded and the Redactor of them (rebuilt when tokens are added)."""

    def __init__(self, tokens: Iterable[str | None]):
        self.redactor: Redactor = redactor(tokens)

    def add(self, tokens: Iterable[str | None]) -> None:
        self.redactor = redactor([*self.redactor.tokens, *tokens])

    def scrub_record(self, record: logging.LogRecord) -> logging.LogRecord:
        scrubber = self.redactor
        if not scrubber:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: the handler reports that
            return record
        if scrubber.contains(message):
            record.msg, record.args = scrubber.scrub(message), None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if scrubber.contains(text):
                record.exc_text = scrubber.scrub(text)
        if record.stack_info:
            record.stack_info = scrubber.scrub(record.stack_info)
        return record


_active: OutputGuard | None = None


@contextlib.contextmanager
def guard_outputs(tokens: Iterable[str | None] = ()) -> Iterator[OutputGuard]:
    """Scrub `tokens` (and any added later) from stdout, stderr, logging and warnings for the duration."""
    global _active
    if _active is not None:
        _active.add(tokens)
        yield _active
        return
    guard = _active = OutputGuard(tokens)
    saved_streams = sys.stdout, sys.stderr
    saved_factory = logging.getLogRecordFactory()
    saved_formatwarning = warnings.formatwarning

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return guard.scrub_record(saved_factory(*args, **kwargs))

    def formatwarning(*args: Any, **kwargs: Any) -> str:
        return guard.redactor.scrub(saved_formatwarning(*args, **kwargs))

    sys.stdout, sys.stderr = ScrubbingStream(sys.stdout, guard), ScrubbingStream(sys.stderr, guard)
    logging.setLogRecordFactory(make_record)
    warnings.formatwarning = formatwarning
    try:
        yield guard
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved_streams
        logging.setLogRecordFactory(saved_factory)
        warnings.formatwarning = saved_formatwarning
        _active = None


def active_guard() -> OutputGuard | None:
    return _active


def guarded(command: Callable[[Any], int], tokens_of: Callable[[Any], Iterable[str | None]]) -> Callable[[Any], int]:
    """A command function (`command(args)`) that runs with `tokens_of(args)` guarded."""
    @functools.wraps(command)
    def run(args: Any) -> int:
        with guard_outputs(tokens_of(args)):
            return command(args)
    return run


__all__ = ["OutputGuard", "ScrubbingStream", "active_guard", "guard_outputs", "guarded"]
