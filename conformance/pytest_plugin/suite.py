"""Which files are case files, and the whole suite loaded once per process (fixtures are shared across files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..cases import CaseError, CaseLoadError, load_suite
from ..cases.loader import case_files
from ..cases.model import CaseSpec, CaseSuite
from ..checks import CHECKS
from .options import DxOptions

CASES_DIR_NAME = "cases"


def _is_case_file(path: Path, root: Path) -> bool:
    """Without --dx-cases, a YAML file is a case file when a directory named `cases` holds it (on the path of
    the argument or below it), so other YAML in a tree (CI configs ...) is left alone."""
    try:
        parts = path.relative_to(root).parent.parts
    except ValueError:
        return False
    return CASES_DIR_NAME in root.parts or CASES_DIR_NAME in parts


def find_case_files(config: pytest.Config, options: DxOptions) -> list[Path]:
    """Every case file of the run: under --dx-cases directories, else under the command-line arguments."""
    if options.case_roots:
        return [p.resolve() for p in case_files(options.case_roots)]
    found: list[Path] = []
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            found.append(path)
        elif path.is_dir():
            found.extend(p.resolve() for p in case_files([path]) if _is_case_file(p.resolve(), path))
    return list(dict.fromkeys(found))


@dataclass
class LoadedSuite:
    """The suite, or the errors that kept it from loading (each with its file label and line)."""

    files: set[Path]
    suite: CaseSuite | None = None
    errors: list[CaseError] = field(default_factory=list)

    def cases_of(self, label: str) -> list[CaseSpec]:
        if self.suite is None:
            return []
        return [case for case in self.suite.cases if case.uid.split("::", 1)[0] == label]

    def errors_of(self, label: str) -> list[CaseError]:
        return [error for error in self.errors if error.file == label]


@dataclass(frozen=True, eq=False)   # eq=False: hashed by identity, as pytest's plugins are
class PreloadedSuite:
    """A suite already loaded in this process (`dxconform run` loads it to check the case files before the
    run), handed to pytest as a plugin object: the plugin uses it instead of loading the same files again,
    if it is the load of exactly the run's files with the same labels."""

    suite: CaseSuite
    files: tuple[Path, ...]     # resolved, in load order
    base: Path                  # what the labels are relative to (the run's rootdir)

    def serves(self, files: list[Path], rootpath: Path) -> bool:
        return list(self.files) == files and self.base.resolve() == rootpath.resolve()


def _preloaded(config: pytest.Config, files: list[Path]) -> CaseSuite | None:
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, PreloadedSuite) and plugin.serves(files, config.rootpath):
            return plugin.suite
    return None


def load(config: pytest.Config, options: DxOptions) -> LoadedSuite:
    files = find_case_files(config, options)
    loaded = LoadedSuite(files=set(files))
    if not files:
        return loaded
    loaded.suite = _preloaded(config, files)
    if loaded.suite is not None:
        return loaded
    try:
        # Labels relative to the rootdir make case uids equal to pytest's node ids.
        loaded.suite = load_suite(files, base=config.rootpath, known_checks=CHECKS)
    except CaseLoadError as problem:
        loaded.errors = list(problem.errors)
    return loaded


def label_of(path: Path, rootpath: Path) -> str:
    """A file's label as the loader writes it (relative to the rootdir when it can be)."""
    try:
        return path.resolve().relative_to(rootpath.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
