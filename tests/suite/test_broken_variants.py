"""The suite catches broken servers: each deliberate fault of the reference server is found by its killers.

A clean embedded run passes everything (exit 0). Each broken variant is the embedded server with one fault
switched on (`dxconform run --embedded-fault NAME`); the run exits 1 and its failed results include the
intended killer cases and checks. To keep the file fast, a fault's run is restricted with `-k` to a few
cases around its killers: the clean full run shows those same cases pass on a conforming server, so a
killer that fails under the fault failed because of it.
"""

from __future__ import annotations

import os

import pytest

from conformance.refserver.faults import FAULTS
from conformance.spec import load_spec

from .runs import AREAS, dxconform_run, matches


class Variant:
    """One broken server: the fault, the -k selection of its run, the results that must fail, and the level
    of the rule (MUST faults make the run exit 1; a SHOULD fault only fails SHOULD results, exit 0)."""

    def __init__(self, fault: str, keyword: str, killers: list[str], level: str = "MUST"):
        self.fault, self.keyword, self.killers, self.level = fault, keyword, killers, level

    @property
    def area(self) -> str:
        return FAULTS[self.fault].area

    def __repr__(self) -> str:
        return self.fault


CASES = "cases/"
# Every run costs a few seconds of start-up, so the default set is two faults per area (and one of a SHOULD
# rule); DXCONFORM_ALL_VARIANTS=1 adds the rest of the catalogue.
DEFAULT_VARIANTS = [
    # url-forms
    Variant("accepts-get", "http-methods", [f"{CASES}url-forms/http-methods.yaml::non-post-is-not-a-success"]),
    Variant("missing-id-as-invalid-input", "absent-id-no-input", [
        f"{CASES}url-forms/absent-ids.yaml::absent-id-no-input[/record-xxxx/describe]",
        f"{CASES}url-forms/absent-ids.yaml::absent-id-no-input[/project-xxxx/describe]"]),
    # json-input
    Variant("accepts-invalid-json", "truncated-object or empty-body", [
        f"{CASES}json-input/malformed-json.yaml::truncated-object"]),
    Variant("unknown-fields-rejected", "unknown-fields", [
        f"{CASES}json-input/unknown-fields.yaml::whoami-ignores-input",
        f"{CASES}json-input/unknown-fields.yaml::new-folder-with-project-key"]),
    # json-output
    Variant("text-plain-answers", "whoami-answer", [
        f"{CASES}json-output/system.yaml::whoami-answer", "checks/json_content_type::/system/whoami"]),
    Variant("envelope-without-error", "error-not-found-envelope or error-invalid-input-envelope", [
        f"{CASES}json-output/errors.yaml::error-not-found-envelope", "checks/error_envelope::"]),
    # data-types
    Variant("float-timestamps", "record-created-modified-are-ms-ints", [
        f"{CASES}data-types/timestamps.yaml::record-created-modified-are-ms-ints",
        "checks/strict_int::/record-xxxx/describe"]),
    Variant("ids-outside-alphabet", "new-ids-have-class-prefix or generated-ids-strict-alphabet", [
        f"{CASES}data-types/ids.yaml::new-ids-have-class-prefix",
        f"{CASES}data-types/ids.yaml::generated-ids-strict-alphabet",
        "checks/strict_id_alphabet::"]),
    # auth
    Variant("ignores-token", "no-token-every-core-route", [
        f"{CASES}auth/tokens-all-routes.yaml::no-token-every-core-route[/system/whoami]",
        f"{CASES}auth/tokens-all-routes.yaml::no-token-every-core-route["]),
    Variant("permission-not-enforced-at-view", "refused-at-view", [
        f"{CASES}semantics/permissions/upload.yaml::add-tags-open-object-refused-at-view",
        f"{CASES}semantics/permissions/upload.yaml::record-new-refused-at-view"]),
    # semantics
    Variant("close-does-nothing", "record-close-is-immediate", [
        f"{CASES}semantics/records/records.yaml::record-close-is-immediate"]),
    Variant("paging-skips", "find-data-objects-pages-cover-everything-once", [
        f"{CASES}semantics/search/paging.yaml::find-data-objects-pages-cover-everything-once"]),
    Variant("nonce-not-idempotent", "nonce-replay", [
        f"{CASES}semantics/records/records.yaml::record-new-nonce-replay-gives-same-id",
        f"{CASES}semantics/files/upload.yaml::file-new-nonce-replay-gives-same-id"]),
    Variant("md5-not-checked", "md5-mismatch-is-refused", [
        f"{CASES}semantics/files/upload.yaml::md5-mismatch-is-refused"]),
    # a fault of a SHOULD rule: found, reported as failed SHOULD results, and the run still exits 0
    Variant("no-nosniff", "nosniff-on-find-projects", [
        f"{CASES}json-output/errors.yaml::nosniff-on-find-projects", "checks/nosniff::/system/findProjects"],
        level="SHOULD"),
]
EXTENDED_VARIANTS = [
    Variant("accepts-any-content-type", "text-plain-refused", [
        f"{CASES}json-input/content-type.yaml::text-plain-refused"]),
    Variant("html-error-pages", "error-not-found-envelope", [
        f"{CASES}json-output/errors.yaml::error-not-found-envelope", "checks/json_content_type::"]),
    Variant("invalid-input-as-400", "error-invalid-input-envelope", [
        f"{CASES}json-output/errors.yaml::error-invalid-input-envelope", "checks/error_status::"]),
    Variant("timestamps-in-seconds", "record-created-modified-are-ms-ints", [
        f"{CASES}data-types/timestamps.yaml::record-created-modified-are-ms-ints",
        "checks/timestamp_plausible::/record-xxxx/describe"]),
    Variant("tags-do-not-stick", "tags-keep-insertion-order", [
        f"{CASES}semantics/metadata/tags-types.yaml::tags-keep-insertion-order"]),
    Variant("null-keeps-property", "null-value-deletes-property", [
        f"{CASES}semantics/metadata/properties.yaml::null-value-deletes-property"]),
    Variant("describe-ignores-fields", "fields-give-exactly-those-keys", [
        f"{CASES}semantics/metadata/describe.yaml::fields-give-exactly-those-keys"]),
    Variant("links-not-deduplicated", "links-are-deduplicated", [
        f"{CASES}semantics/records/records.yaml::links-are-deduplicated"]),
    Variant("limit-ignored", "find-data-objects-limit", [
        f"{CASES}semantics/search/paging.yaml::find-data-objects-limit-is-a-maximum"]),
    Variant("glob-as-exact", "filter-name-glob", [
        f"{CASES}semantics/search/find-data-objects.yaml::filter-name-glob"]),
    Variant("folders-unsorted", "list-folders-sorted", [
        f"{CASES}semantics/folders/new-list.yaml::list-folders-sorted"]),
    Variant("range-ignored", "download-range-gives-those-bytes", [
        f"{CASES}semantics/files/download.yaml::download-range-gives-those-bytes"]),
    # PermissionDenied's 401 rests on one source (dxfuse's copy of the server table): a SHOULD rule
    Variant("permission-denied-as-403", "add-tags-open-object-refused-at-view", [
        "checks/error_status::/record-xxxx/addTags"], level="SHOULD"),
]
VARIANTS = DEFAULT_VARIANTS + EXTENDED_VARIANTS
RUN_VARIANTS = VARIANTS if os.environ.get("DXCONFORM_ALL_VARIANTS") == "1" else DEFAULT_VARIANTS


def test_the_default_set_spans_all_six_areas_with_enough_must_faults():
    must = [v for v in DEFAULT_VARIANTS if v.level == "MUST"]
    assert len(must) >= 12
    assert {v.area for v in must} == set(AREAS)
    assert len({v.fault for v in VARIANTS}) == len(VARIANTS)


def test_clean_server_passes_everything(tmp_path):
    """The embedded server without faults: exit 0, nothing failed, every area, every route, every killer passes.
    One test for one run: under xdist a module fixture would run the whole suite once per worker."""
    run = dxconform_run([], tmp_path / "out")
    assert run.returncode == 0, run.describe()
    assert run.results is not None and run.results["format"] == "dxconform-results/1"
    assert run.results["server"]["embedded"] is True
    assert run.results["summary"]["failed"] == 0 and run.results["summary"]["error"] == 0, run.describe()
    cases = [r for r in run.items if r["id"].startswith(CASES)]
    assert len(cases) >= 250
    assert {r["area"] for r in cases} == set(AREAS)
    # core cases never end unsupported
    assert [r["id"] for r in cases if r["profile"] == "core" and r["outcome"] == "unsupported"] == []

    # every one of the 208 routes is exercised by the URL-form cases
    exercised = {route for r in cases if r["area"] == "url-forms" for route in r.get("routes", [])}
    every_route = {route.route for route in load_spec().routes}
    assert len(every_route) == 208
    assert sorted(every_route - exercised) == []

    # every killer of the table exists and passes here, so its failing under a fault is the fault's doing
    passed = run.ids("passed")
    missing = [(v.fault, k) for v in VARIANTS for k in v.killers if not any(matches(i, k) for i in passed)]
    assert missing == []


def test_every_fault_of_the_catalogue_has_a_variant():
    # hangs-on-whoami is the hostile server of test_hostile.py; fuzz_faults.py's faults are for fuzzing
    fuzz_module = "conformance.refserver.fuzz_faults"
    catalogue = {name for name, f in FAULTS.items()
                 if not any(getattr(fn, "__module__", "") == fuzz_module for fn in (f.wrap, f.request, f.response))}
    assert catalogue - {"hangs-on-whoami"} == {v.fault for v in VARIANTS}


@pytest.mark.parametrize("variant", RUN_VARIANTS, ids=repr)
def test_broken_variant_is_caught(variant: Variant, tmp_path):
    run = dxconform_run(["--embedded-fault", variant.fault, "-k", variant.keyword], tmp_path / "out")
    assert run.results is not None, run.describe()
    failed = run.ids("failed")
    uncaught = [k for k in variant.killers if not any(matches(i, k) for i in failed)]
    assert uncaught == [], run.describe()
    if variant.level == "MUST":
        assert run.returncode == 1, run.describe()
        assert run.must_failures(), run.describe()
    else:
        assert run.returncode == 0, run.describe()
        assert run.must_failures() == [], run.describe()
