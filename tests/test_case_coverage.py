"""Counting the cases that cover each route, from case files read by the case loader."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.case_coverage import count_cases
from conformance.spec import load_spec
from conformance.spec.routes import TemplateResolver

DEFAULTS = "defaults: {area: semantics, topic: files, level: MUST, source: test}\n"


@pytest.fixture(scope="module")
def resolve() -> TemplateResolver:
    return TemplateResolver(load_spec().routes)


def _write(root: Path, name: str, text: str, head: str = "") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + textwrap.dedent(text), encoding="utf-8")


def test_counts_cases_per_route(tmp_path: Path, resolve: TemplateResolver) -> None:
    _write(tmp_path, "files/close.yaml", """
        fixtures:
          fresh_file:
            steps:
              - route: /file/new
                body: {project: "{work_project}"}
                save: {file: $.id}
        cases:
          - id: close-twice
            title: closing twice is fine
            uses: [fresh_file]
            steps:
              - route: /{file}/close
              - route: /{file}/close
            finally:
              - route: /{work_project}/destroy
          - id: explicit
            title: names its routes
            uses: [fresh_file]
            routes: [/file-xxxx/describe]
            steps:
              - route: /{file}/close
        """, DEFAULTS)
    _write(tmp_path, "system/whoami.yml", """
        fixtures:
          other_file:
            steps:
              - route: /file/new
                body: {project: "{work_project}"}
                save: {file: $.id}
        cases:
          - id: whoami
            title: whoami answers
            uses: [other_file]
            steps:
              - route: /system/whoami
              - route: /{file}/close
        """, DEFAULTS)
    # Fixtures are not cases: a file of fixtures alone counts nothing.
    _write(tmp_path, "fixtures.yaml", """
        fixtures:
          a_record:
            steps:
              - route: /record/new
                body: {project: "{work_project}"}
        """)
    _write(tmp_path, "broken.yaml", "cases: [unclosed\n")
    _write(tmp_path, "invalid/no-title.yaml", """
        cases:
          - id: untitled
            steps: [{route: /system/greet}]
        """, DEFAULTS)
    _write(tmp_path, "notes.txt", "route: /system/greet\n")
    counts = count_cases(tmp_path, resolve)
    assert counts.per_route == {"/file-xxxx/close": 2, "/file-xxxx/describe": 1, "/system/whoami": 1}
    assert not counts.probes
    assert counts.unreadable == ["broken.yaml", "invalid/no-title.yaml"]


def test_no_cases_directory_counts_nothing(tmp_path: Path, resolve: TemplateResolver) -> None:
    assert not count_cases(None, resolve).per_route
    assert not count_cases(tmp_path / "missing", resolve).per_route


def test_for_each_cases_count_every_route_they_expand_to_and_url_forms_only_probe(
        tmp_path: Path, resolve: TemplateResolver) -> None:
    _write(tmp_path, "url-forms/absent.yaml", """
        defaults: {area: url-forms, topic: absent-ids, level: MUST, source: test}
        cases:
          - id: absent-ids
            title: absent IDs
            for_each: {subject_kind: instance, class: [file, record]}
            steps: [{route: "{path}"}]
          - id: core-system
            title: core system routes
            for_each: {profile: core, subject_kind: system}
            steps: [{route: "{path}"}]
    """)
    counts = count_cases(tmp_path, resolve)
    routes = load_spec().routes
    expected = {r.route for r in routes if (r.subject_kind == "instance" and r.cls in ("file", "record"))
                or (r.profile == "core" and r.subject_kind == "system")}
    assert not counts.per_route and not counts.unreadable
    assert set(counts.probes) == expected and set(counts.probes.values()) == {1}
    assert len(expected) == 14 + 12 + 8


def test_the_shipped_cases_cover_all_208_routes(resolve: TemplateResolver) -> None:
    from conformance.resources import cases_dir

    counts = count_cases(cases_dir(), resolve)
    assert not counts.unreadable
    assert len(set(counts.per_route) | set(counts.probes)) == 208
    # Only the routes of core, executables, workflows and apps have cases beyond URL-form probes (absent IDs,
    # empty input), which prove nothing of a route the server lacks: the other profiles' routes are counted as
    # probed, not covered.
    spec = load_spec()
    covered = {r.route for profile in ("core", "executables", "workflows", "apps") for r in spec.profile_routes(profile)}
    assert {resolve(key) for key in counts.per_route} == covered
