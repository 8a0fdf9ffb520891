"""Counting the cases that cover each route, from case files alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.spec import Spec, load_spec
from conformance.spec.case_index import TemplateResolver, count_cases


@pytest.fixture(scope="module")
def resolve(spec: Spec) -> TemplateResolver:
    return TemplateResolver(spec.routes)


@pytest.mark.parametrize(("written", "key"), [
    ("/file-xxxx/close", "/file-xxxx/close"),                      # a route key
    ("/file-B0000000000000000000000Q/close", "/file-xxxx/close"),  # a concrete path
    ("/{file}/close", "/file-xxxx/close"),                         # placeholder named after the class
    ("/{record_2}/describe", "/record-xxxx/describe"),
    ("/file-{hash}/describe", "/file-xxxx/describe"),              # literal class prefix
    ("/{thing}/upload", "/file-xxxx/upload"),                      # only files have upload
    ("/{thing}/describe", None),                                   # ambiguous: not counted
    ("/{file}/noSuchMethod", None),
    ("/system/whoami", "/system/whoami"),
    ("{upload_url}", None),
])
def test_resolver(resolve: TemplateResolver, written: str, key: str | None) -> None:
    assert resolve(written) == key


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_counts_cases_per_route(tmp_path: Path, resolve: TemplateResolver) -> None:
    _write(tmp_path, "files/close.yaml", """
        fixtures:
          fresh_file:
            steps:
              - route: /file/new
                body: {project: "{project}"}
        cases:
          - id: close-twice
            title: closing twice is fine
            steps:
              - route: /{file}/close
              - route: /{file}/close
            finally:
              - route: /{project}/destroy
          - id: explicit
            title: names its routes
            routes: [/file-xxxx/describe]
            steps:
              - route: /{file}/close
        """)
    _write(tmp_path, "system/whoami.yml", """
        cases:
          - id: whoami
            title: whoami answers
            steps:
              - route: /system/whoami
              - route: /{file}/close
        """)
    _write(tmp_path, "broken.yaml", "cases: [unclosed\n")
    _write(tmp_path, "notes.txt", "route: /system/greet\n")
    counts = count_cases(tmp_path, resolve)
    assert counts.per_route == {"/file-xxxx/close": 2, "/file-xxxx/describe": 1, "/system/whoami": 1}
    assert counts.unreadable == ["broken.yaml"]


def test_no_cases_directory_counts_nothing(tmp_path: Path, resolve: TemplateResolver) -> None:
    assert not count_cases(None, resolve).per_route
    assert not count_cases(tmp_path / "missing", resolve).per_route


def test_for_each_cases_count_every_route_they_expand_to(tmp_path: Path, resolve: TemplateResolver,
                                                        spec: Spec) -> None:
    _write(tmp_path, "url-forms/absent.yaml", """
        cases:
          - id: absent-ids
            for_each: {subject_kind: instance, class: [file, record]}
            steps: [{route: "{path}"}]
          - id: core-system
            for_each: {profile: core, subject_kind: system}
            steps: [{route: "{path}"}]
    """)
    counts = count_cases(tmp_path, resolve).per_route
    expected = {r.route for r in spec.routes if (r.subject_kind == "instance" and r.cls in ("file", "record"))
                or (r.profile == "core" and r.subject_kind == "system")}
    assert set(counts) == expected and set(counts.values()) == {1}
    assert len(expected) == 14 + 12 + 8


def test_the_shipped_cases_cover_all_208_routes(resolve: TemplateResolver) -> None:
    from conformance.resources import cases_dir

    counts = count_cases(cases_dir(), resolve)
    assert not counts.unreadable
    assert len(set(counts.per_route) | set(counts.probes)) == 208
    # Only core routes have cases beyond URL-form probes (absent IDs, empty input), which prove nothing of a
    # route the server lacks: the other profiles' routes are counted as probed, not covered.
    assert {resolve(key) for key in counts.per_route} == {r.route for r in load_spec().profile_routes("core")}
