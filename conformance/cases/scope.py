"""Case files read once each, and the fixture names each file sees: its own and those it imports by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .model import fixture_key
from .validate import CaseError, file_rule_errors, schema_errors
from .yamlmarks import MarkedDocument, YamlProblem, load_marked_file


@dataclass
class CaseFile:
    """One schema-valid case file: its label (file name in messages and uids), its data with line marks, and
    `scope`: local fixture name -> fixture key in the suite (its own fixtures and the ones it imports)."""

    path: Path
    label: str
    document: MarkedDocument
    scope: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> dict:
        return self.document.data

    def own_fixtures(self) -> dict:
        return self.data.get("fixtures") or {}

    def imports(self) -> list[tuple[int, dict]]:
        """(index or -1 for a single mapping, the import) for each `imports` entry."""
        raw = self.data.get("imports")
        if raw is None:
            return []
        return [(-1, raw)] if isinstance(raw, dict) else list(enumerate(raw))

    def import_path(self, index: int) -> tuple:
        return ("imports",) if index < 0 else ("imports", index)


def label_of(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


class FileReader:
    """Reads case files, each once, following `imports`; problems go to `errors` as `file:line: message`."""

    def __init__(self, base: Path | None, errors: list[CaseError]):
        self.base = base
        self.errors = errors
        self.files: dict[Path, CaseFile | None] = {}

    def read(self, path: Path) -> CaseFile | None:
        """The file, schema-valid with its imports resolved, or None (its errors are recorded)."""
        resolved = path.resolve()
        if resolved in self.files:
            return self.files[resolved]
        self.files[resolved] = None
        label = label_of(path, self.base)
        document = self._document(path, label)
        if document is None:
            return None
        unit = CaseFile(path, label, document,
                        {name: fixture_key(label, name) for name in (document.data.get("fixtures") or {})})
        self.files[resolved] = unit  # before its imports: a file that imports this one back finds it
        for index, entry in unit.imports():
            self._import(unit, index, entry)
        return unit

    def _document(self, path: Path, label: str) -> MarkedDocument | None:
        try:
            document = load_marked_file(path)
        except YamlProblem as problem:
            self.errors.append(CaseError(label, problem.line, problem.message))
            return None
        problems = schema_errors(document, label)
        if not problems:
            problems = file_rule_errors(document, label)
        self.errors.extend(problems)
        return None if problems else document

    def _import(self, unit: CaseFile, index: int, entry: dict) -> None:
        where = unit.import_path(index)
        line = unit.document.line_of(where + ("from",))
        target_path = unit.path.parent / entry["from"]
        if not target_path.is_file():
            self.errors.append(CaseError(unit.label, line, f"imports: no file {entry['from']} next to this one"))
            return
        target = self.read(target_path)
        if target is None:
            self.errors.append(CaseError(unit.label, line, f"imports: {entry['from']} does not load (see its errors)"))
            return
        declared = target.own_fixtures()
        for position, name in enumerate(entry["fixtures"]):
            name_line = unit.document.line_of(where + ("fixtures", position))
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                self.errors.append(CaseError(unit.label, name_line,
                                             f"imports: {entry['from']} declares no fixture {name!r} (it has: {known})"))
            elif name in unit.scope and unit.scope[name] != target.scope[name]:
                self.errors.append(CaseError(unit.label, name_line,
                                             f"imports: fixture {name!r} is already declared or imported here"))
            else:
                unit.scope[name] = target.scope[name]

    def loaded(self) -> list[CaseFile]:
        """Every file read without problems, the imported ones included, in reading order."""
        return [unit for unit in self.files.values() if unit is not None]
