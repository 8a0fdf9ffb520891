"""The catalogue of broken servers as data: each fault of the reference server and the results that must catch it.

A fault's area and rule live with the fault (conformance.refserver.faults); here is what the suite must do
about it: the `-k` expression that keeps its run short (the cases around its killers), the killers (result
ids that must fail or error under the fault: a case id, or a `checks/<check>::<route>` id, exact or a prefix
ending in '::', '/', '[' or '*'), the level of its rule (a MUST fault makes the run exit 1), extra options of
its run, and whether it belongs to the quick set CI runs (one or two faults per area).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..refserver.faults import FAULTS

C = "cases/"


@dataclass(frozen=True)
class Entry:
    fault: str
    keyword: str
    killers: tuple[str, ...]
    level: str = "MUST"
    args: tuple[str, ...] = ()
    quick: bool = False

    @property
    def area(self) -> str:
        return FAULTS[self.fault].area

    @property
    def rule(self) -> str:
        return FAULTS[self.fault].rule

    def __repr__(self) -> str:
        return self.fault


def matches(result_id: str, killer: str) -> bool:
    """A killer is an exact result id, or a prefix ending in '::', '/' or '[' (or '*' for any prefix)."""
    if killer.endswith("*"):
        return result_id.startswith(killer[:-1])
    if killer.endswith(("::", "/", "[")):
        return result_id.startswith(killer)
    return result_id == killer


def E(fault: str, keyword: str, *killers: str, **options) -> Entry:  # noqa: N802 - reads as a table row
    return Entry(fault, keyword, tuple(killers), **options)


CATALOGUE: tuple[Entry, ...] = (
    # -- url-forms ---------------------------------------------------------------------------------------
    E("accepts-get", "http-methods", f"{C}url-forms/http-methods.yaml::non-post-is-not-a-success",
      f"{C}url-forms/http-methods.yaml::get-new-creates-nothing", quick=True),
    E("missing-id-as-invalid-input", "absent-id-no-input",
      f"{C}url-forms/absent-ids.yaml::absent-id-no-input[/record-xxxx/describe]",
      f"{C}url-forms/absent-ids.yaml::absent-id-no-input[/project-xxxx/describe]",
      f"{C}url-forms/absent-ids.yaml::absent-id-no-input["),
    E("cors-origin-not-echoed", "cors-origin-echoed",
      f"{C}url-forms/query-and-cors.yaml::cors-origin-echoed-on-post"),
    E("preflight-refused", "cors-preflight",
      f"{C}url-forms/query-and-cors.yaml::cors-preflight-accepted",
      f"{C}url-forms/query-and-cors.yaml::cors-preflight-needs-no-token"),
    # every step that calls the stalled route ends in error at the (short) timeout
    E("hangs-on-whoami", "system.yaml or identity.yaml", f"{C}json-output/system.yaml::whoami-answer",
      f"{C}auth/identity.yaml::whoami-per-token", args=("--timeout", "2")),
    # -- json-input --------------------------------------------------------------------------------------
    E("accepts-invalid-json", "truncated-object or empty-body", f"{C}json-input/malformed-json.yaml::truncated-object",
      quick=True),
    E("unknown-fields-rejected", "unknown-fields", f"{C}json-input/unknown-fields.yaml::whoami-ignores-input",
      f"{C}json-input/unknown-fields.yaml::new-folder-with-project-key"),
    E("accepts-any-content-type", "text-plain-refused", f"{C}json-input/content-type.yaml::text-plain-refused"),
    E("accepts-trailing-garbage", "trailing-garbage or two-objects",
      f"{C}json-input/malformed-json.yaml::trailing-garbage", f"{C}json-input/malformed-json.yaml::two-objects"),
    # (escaped at first: every top-level case used a route with required keys, where {} is refused too)
    E("accepts-non-object-input", "top-level.yaml", f"{C}json-input/top-level.yaml::array-to-describe",
      f"{C}json-input/top-level.yaml::number-to-list-folder",
      f"{C}json-input/top-level.yaml::array-to-find-data-objects", quick=True),
    E("required-name-defaulted", "project-new-without-name",
      f"{C}json-input/required-fields.yaml::project-new-without-name"),
    E("numbers-coerced-to-strings", "name-number",
      f"{C}json-input/field-types-containers.yaml::project-new-name-number",
      f"{C}json-input/field-types-containers.yaml::record-new-name-number"),
    # -- json-output -------------------------------------------------------------------------------------
    E("text-plain-answers", "whoami-answer", f"{C}json-output/system.yaml::whoami-answer",
      "checks/json_content_type::/system/whoami"),
    E("envelope-without-error", "error-not-found-envelope or error-invalid-input-envelope",
      f"{C}json-output/errors.yaml::error-not-found-envelope", "checks/error_envelope::", quick=True),
    E("html-error-pages", "error-not-found-envelope", f"{C}json-output/errors.yaml::error-not-found-envelope",
      "checks/json_content_type::"),
    E("invalid-input-as-400", "error-invalid-input-envelope",
      f"{C}json-output/errors.yaml::error-invalid-input-envelope", "checks/error_status::"),
    E("invalid-state-as-409", "error-invalid-state-envelope",
      f"{C}json-output/errors.yaml::error-invalid-state-envelope", "checks/error_status::"),
    E("error-without-message", "error-not-found-envelope",
      f"{C}json-output/errors.yaml::error-not-found-envelope", "checks/error_envelope::"),
    # no error check looks at a 200 (they apply to >= 400 answers): the steps' `error` expectations catch it
    # (engine/expectations.py: never a 2xx; with no status written, the one its types document)
    E("errors-as-200", "destroy-refused-at-contribute or move-folder-into-itself",
      f"{C}semantics/permissions/administer.yaml::destroy-refused-at-contribute",
      f"{C}semantics/folders/remove-rename-move.yaml::move-folder-into-itself"),
    E("no-nosniff", "nosniff-on-find-projects", f"{C}json-output/errors.yaml::nosniff-on-find-projects",
      "checks/nosniff::/system/findProjects", level="SHOULD"),
    # -- data-types --------------------------------------------------------------------------------------
    E("float-timestamps", "record-created-modified-are-ms-ints",
      f"{C}data-types/timestamps.yaml::record-created-modified-are-ms-ints",
      "checks/strict_int::/record-xxxx/describe", quick=True),
    E("timestamps-in-seconds", "record-created-modified-are-ms-ints",
      f"{C}data-types/timestamps.yaml::record-created-modified-are-ms-ints",
      "checks/timestamp_plausible::/record-xxxx/describe"),
    E("ids-outside-alphabet", "new-ids-have-class-prefix or generated-ids-strict-alphabet",
      f"{C}data-types/ids.yaml::new-ids-have-class-prefix", f"{C}data-types/ids.yaml::generated-ids-strict-alphabet",
      "checks/strict_id_alphabet::", quick=True),
    E("hidden-as-string", "hidden-is-boolean", f"{C}data-types/values.yaml::hidden-is-boolean"),
    # -- auth --------------------------------------------------------------------------------------------
    E("ignores-token", "no-token-every-core-route",
      f"{C}auth/tokens-all-routes.yaml::no-token-every-core-route[/system/whoami]",
      f"{C}auth/tokens-all-routes.yaml::no-token-every-core-route[", quick=True),
    E("unknown-token-accepted", "unknown-token", f"{C}auth/tokens.yaml::unknown-token",
      f"{C}auth/tokens.yaml::unknown-token-destroy-refused", f"{C}auth/tokens.yaml::unknown-token-list-folder",
      f"{C}auth/tokens-all-routes.yaml::unknown-token-every-core-route["),
    E("permission-not-enforced-at-view", "refused-at-view",
      f"{C}semantics/permissions/upload.yaml::add-tags-open-object-refused-at-view",
      f"{C}semantics/permissions/upload.yaml::record-new-refused-at-view", quick=True),
    E("contribute-acts-as-administer", "refused-at-contribute",
      f"{C}semantics/permissions/administer.yaml::invite-refused-at-contribute",
      f"{C}semantics/permissions/administer.yaml::destroy-refused-at-contribute",
      f"{C}semantics/permissions/administer.yaml::decrease-permissions-refused-at-contribute"),
    E("project-readable-without-access", "refused-at-none or describe-project-refused or list-folder-refused",
      f"{C}semantics/permissions/view.yaml::describe-project-refused-at-none",
      f"{C}semantics/permissions/view.yaml::list-folder-refused-at-none",
      f"{C}auth/no-access.yaml::describe-project-refused"),
    # PermissionDenied's 401 rests on one source (dxfuse's copy of the server table): a SHOULD rule
    E("permission-denied-as-403", "add-tags-open-object-refused-at-view", "checks/error_status::/record-xxxx/addTags",
      level="SHOULD"),
    # -- semantics ---------------------------------------------------------------------------------------
    E("close-does-nothing", "record-close-is-immediate", f"{C}semantics/records/records.yaml::record-close-is-immediate",
      quick=True),
    E("closing-never-ends", "close-passes-through-closing-to-closed",
      f"{C}semantics/files/lifecycle.yaml::close-passes-through-closing-to-closed"),
    E("tags-do-not-stick", "tags-keep-insertion-order", f"{C}semantics/metadata/tags-types.yaml::tags-keep-insertion-order"),
    E("null-keeps-property", "null-value-deletes-property",
      f"{C}semantics/metadata/properties.yaml::null-value-deletes-property"),
    E("rename-does-nothing", "rename-changes-the-name",
      f"{C}semantics/metadata/names-visibility.yaml::rename-changes-the-name"),
    E("describe-ignores-fields", "fields-give-exactly-those-keys",
      f"{C}semantics/metadata/describe.yaml::fields-give-exactly-those-keys"),
    E("links-not-deduplicated", "links-are-deduplicated", f"{C}semantics/records/records.yaml::links-are-deduplicated"),
    E("limit-ignored", "find-data-objects-limit", f"{C}semantics/search/paging.yaml::find-data-objects-limit-is-a-maximum"),
    E("glob-as-exact", "filter-name-glob", f"{C}semantics/search/find-data-objects.yaml::filter-name-glob"),
    E("paging-skips", "find-data-objects-pages-cover-everything-once",
      f"{C}semantics/search/paging.yaml::find-data-objects-pages-cover-everything-once"),
    E("paging-repeats", "find-data-objects-pages-cover-everything-once",
      f"{C}semantics/search/paging.yaml::find-data-objects-pages-cover-everything-once"),
    E("folders-unsorted", "list-folders-sorted", f"{C}semantics/folders/new-list.yaml::list-folders-sorted"),
    E("listing-includes-hidden", "hidden-objects-left-out-of-list-folder or list-hidden-needs-flag",
      f"{C}semantics/metadata/names-visibility.yaml::hidden-objects-left-out-of-list-folder",
      f"{C}semantics/folders/new-list.yaml::list-hidden-needs-flag"),
    E("clone-changes-id", "clone-keeps", f"{C}semantics/folders/remove-objects-clone.yaml::clone-keeps-id",
      f"{C}semantics/metadata/copies.yaml::clone-keeps-id-and-metadata", f"{C}data-types/ids.yaml::clone-keeps-object-id"),
    E("remove-objects-from-every-project", "remove-objects-other-project-untouched",
      f"{C}semantics/folders/remove-objects-clone.yaml::remove-objects-other-project-untouched"),
    E("nonce-not-idempotent", "nonce-replay", f"{C}semantics/records/records.yaml::record-new-nonce-replay-gives-same-id",
      f"{C}semantics/files/upload.yaml::file-new-nonce-replay-gives-same-id", quick=True),
    E("nonce-reuse-accepted", "nonce-reuse-with-other-input",
      f"{C}semantics/records/records.yaml::record-new-nonce-reuse-with-other-input",
      f"{C}semantics/files/upload.yaml::file-new-nonce-reuse-with-other-input"),
    E("md5-not-checked", "md5-mismatch-is-refused", f"{C}semantics/files/upload.yaml::md5-mismatch-is-refused"),
    E("range-ignored", "download-range-gives-those-bytes",
      f"{C}semantics/files/download.yaml::download-range-gives-those-bytes"),
    E("unavailable-without-retry-after", "greet", "checks/retry_after::/system/greet", level="SHOULD"),
    # -- applets and jobs (faults/executables.py; cases of profile executables) ---------------------------------
    # which error a refused run input gets is unobserved (digest 9.1): its cases, and so these faults, are SHOULD
    E("run-accepts-missing-input", "applet-run-missing-required-input",
      f"{C}semantics/jobs/run-input.yaml::applet-run-missing-required-input", level="SHOULD"),
    E("run-ignores-choices", "applet-run-value-not-in-choices",
      f"{C}semantics/jobs/run-input.yaml::applet-run-value-not-in-choices", level="SHOULD"),
    E("run-nonce-not-idempotent", "applet-run-nonce-replay-same-job",
      f"{C}semantics/jobs/run-input.yaml::applet-run-nonce-replay-same-job"),
    # its killer waits for a job that never starts until its `eventually` gives up: no reruns
    E("job-never-leaves-runnable", "job-bash-echo-done-with-output",
      f"{C}semantics/jobs/lifecycle.yaml::job-bash-echo-done-with-output", args=("--reruns", "0")),
    E("output-not-validated", "output-error", f"{C}semantics/jobs/lifecycle.yaml::job-output-missing-required-output-error",
      f"{C}semantics/jobs/lifecycle.yaml::job-output-wrong-class-output-error",
      f"{C}semantics/jobs/lifecycle.yaml::job-output-key-not-in-spec-output-error"),
    E("jbor-not-awaited", "job-jbor-consumer-waits-for-producer",
      f"{C}semantics/jobs/jbor.yaml::job-jbor-consumer-waits-for-producer"),
    E("depends-on-ignored", "applet-run-depends-on-open-record-waits or applet-run-depends-on-job-waits",
      f"{C}semantics/jobs/run-input.yaml::applet-run-depends-on-open-record-waits",
      f"{C}semantics/jobs/run-input.yaml::applet-run-depends-on-job-waits"),
    E("terminate-does-nothing", "job-terminate-running-job", f"{C}semantics/jobs/terminate.yaml::job-terminate-running-job"),
    E("failed-job-reported-done", "job-describe-failed-job or job-bash-nonzero-exit",
      f"{C}semantics/jobs/describe.yaml::job-describe-failed-job",
      f"{C}semantics/jobs/lifecycle.yaml::job-bash-nonzero-exit-app-internal-error"),
    E("failure-reason-missing", "job-describe-failed-job or job-bash-nonzero-exit",
      f"{C}semantics/jobs/describe.yaml::job-describe-failed-job",
      f"{C}semantics/jobs/lifecycle.yaml::job-bash-nonzero-exit-app-internal-error"),
    # stateTransitions is a recorded key (digest 4.2, medium): SHOULD
    E("state-transitions-reversed", "job-state-transitions-set-at",
      f"{C}data-types/executables.yaml::job-state-transitions-set-at", level="SHOULD"),
    # the cases are SHOULD (startedRunning is a recorded key); that a timestamp is in ms is the MUST check's
    E("started-running-in-seconds", "job-running-times-within-a-minute-of-now or job-timestamps-in-order",
      f"{C}data-types/executables.yaml::job-running-times-within-a-minute-of-now",
      f"{C}data-types/executables.yaml::job-timestamps-in-order", "checks/timestamp_plausible::/job-xxxx/describe"),
    E("subjob-parent-null", "job-python-subjob-describe", f"{C}semantics/jobs/lifecycle.yaml::job-python-subjob-describe"),
    E("find-executions-paging-skips", "job-find-executions-pages",
      f"{C}semantics/jobs/search.yaml::job-find-executions-pages"),
    E("applet-describe-leaks-code", "applet-describe-run-spec-without-code",
      f"{C}semantics/applets/applets.yaml::applet-describe-run-spec-without-code"),
    E("job-token-reads-any-project", "job-token-cannot-see-bob-project",
      f"{C}semantics/jobs/token-scope.yaml::job-token-cannot-see-bob-project"),
    # -- workflows, analyses, apps (faults/workflows.py; cases of profiles workflows and apps) -------------------
    E("stale-edit-version-accepted", "stale-edit-version",
      *(f"{C}semantics/workflows/edit-version.yaml::stale-edit-version-{m}-not-applied"
        for m in ("add-stage", "update", "remove-stage", "move-stage", "update-stage-executable")),
      f"{C}semantics/workflows/edit-version.yaml::stale-edit-version-is-invalid-state"),
    E("edit-version-not-incremented", "bumps-edit-version or bump-twice",
      *(f"{C}semantics/workflows/edit-version.yaml::{m}-bumps-edit-version"
        for m in ("add-stage", "move-stage", "remove-stage", "update", "update-stage-executable")),
      f"{C}semantics/workflows/edit-version.yaml::two-edits-bump-twice"),
    # what a no-op edit answers is unobserved (dxpy sends none): the design's rule, SHOULD
    E("no-op-edit-bumps-edit-version", "does-not-bump",
      f"{C}semantics/workflows/edit-version.yaml::no-op-update-does-not-bump",
      f"{C}semantics/workflows/edit-version.yaml::no-op-move-stage-does-not-bump", level="SHOULD"),
    E("closed-workflow-editable", "closed-workflow-edit-refused",
      f"{C}semantics/workflows/lifecycle.yaml::closed-workflow-edit-refused"),
    E("run-values-lose-to-bindings", "analysis-run-value-overrides-binding",
      f"{C}semantics/analyses/run.yaml::analysis-run-value-overrides-binding"),
    E("workflow-inputs-dropped", "analysis-workflow-level-inputs or analysis-locked-workflow",
      f"{C}semantics/analyses/run.yaml::analysis-workflow-level-inputs",
      f"{C}semantics/analyses/run.yaml::analysis-locked-workflow-refuses-stage-inputs"),
    E("stage-links-to-first-stage", "analysis-three-stage-chain",
      f"{C}semantics/analyses/run.yaml::analysis-three-stage-chain"),
    E("relative-stage-folder-at-root", "analysis-folders",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-folders-relative-and-absolute",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-folders-stage-folders-at-run",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-folders-run-folder"),
    E("stage-folders-ignored", "analysis-folders-stage-folders-at-run",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-folders-stage-folders-at-run"),
    E("analysis-done-despite-failed-stage", "analysis-failed-when-a-stage-failed or analysis-dependent-stage-fails",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-failed-when-a-stage-failed",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-dependent-stage-fails-with-its-producer"),
    # the run-wide world fixture awaits its analysis until `await` gives up (60 s), and fails: no reruns
    E("analysis-stuck-in-progress", "analysis-done-when-every-stage-done",
      f"{C}semantics/analyses/lifecycle.yaml::analysis-done-when-every-stage-done", args=("--reruns", "0")),
    E("analysis-output-without-workflow-outputs", "analysis-output-stage-keyed-and-workflow-outputs",
      f"{C}semantics/analyses/run.yaml::analysis-output-stage-keyed-and-workflow-outputs"),
    E("stage-job-without-analysis", "stage-job-names-its-analysis-and-stage",
      f"{C}semantics/analyses/run.yaml::stage-job-names-its-analysis-and-stage"),
    E("find-by-applet-misses-analyses", "find-executions-executable-applet-includes-analysis",
      f"{C}semantics/analyses/search.yaml::find-executions-executable-applet-includes-analysis"),
    # where "default" stays when a version is added or published is the design's reading: SHOULD
    E("default-alias-is-newest-version", "default-stays-with-the-first-version or publish-without-make-default "
      "or tag-default-is-refused",
      f"{C}semantics/apps/aliases.yaml::default-stays-with-the-first-version",
      f"{C}semantics/apps/aliases.yaml::publish-without-make-default-keeps-default",
      f"{C}semantics/apps/aliases.yaml::tag-default-is-refused", level="SHOULD"),
    E("unpublished-app-shown-to-others", "unpublished-app or unpublished-globalworkflow",
      f"{C}semantics/apps/access.yaml::unpublished-app-is-hidden-from-others",
      f"{C}semantics/apps/access.yaml::unpublished-app-does-not-run-for-others",
      f"{C}auth/apps.yaml::unpublished-app-read-routes-by-stranger-refused",
      f"{C}auth/apps.yaml::unpublished-globalworkflow-by-stranger-refused"),
    E("publish-twice-accepted", "publish-twice",
      f"{C}semantics/apps/lifecycle.yaml::publish-twice-is-invalid-state",
      f"{C}semantics/apps/global-workflows.yaml::global-workflow-publish-twice"),
    # that only developers edit is the design's (digest 7 names the developer routes, not who may call them)
    E("non-developer-adds-developers", "non-developer-cannot-edit",
      f"{C}semantics/apps/access.yaml::non-developer-cannot-edit", level="SHOULD"),
    # -- what the real platform was recorded doing (faults/real_traffic.py; cases/semantics/real-platform.yaml) ---
    E("folder-not-found-worded-otherwise", "real-platform.yaml and missing-folder",
      f"{C}semantics/real-platform.yaml::missing-folder-list-folder-wording",
      f"{C}semantics/real-platform.yaml::missing-folder-remove-folder-wording"),
    E("list-projects-of-unknown-refused", "real-platform.yaml and list-projects-of-unknown-file-is-empty",
      f"{C}semantics/real-platform.yaml::list-projects-of-unknown-file-is-empty"),
    E("public-token-refused", "real-platform.yaml and public-token-find-projects",
      f"{C}semantics/real-platform.yaml::public-token-find-projects"),
    E("success-without-charset", "real-platform.yaml and success-answer-headers",
      f"{C}semantics/real-platform.yaml::success-answer-headers"),
    E("upload-headers-without-host", "real-platform.yaml and upload-answer-headers-as-recorded",
      f"{C}semantics/real-platform.yaml::upload-answer-headers-as-recorded"),
    E("download-url-never-reused", "real-platform.yaml and download-twice-same-url",
      f"{C}semantics/real-platform.yaml::download-twice-same-url",
      f"{C}semantics/real-platform.yaml::preauthenticated-download-twice-same-url"),
    E("quoted-nonce-refused", "real-platform.yaml and nonce-with-quotes-accepted",
      f"{C}semantics/real-platform.yaml::nonce-with-quotes-accepted"),
    # the route is test-only and known from clients' tests alone: SHOULD
    E("come-back-later-at-once", "real-platform.yaml and come-back-later-until-then-503-with-retry-after",
      f"{C}semantics/real-platform.yaml::come-back-later-until-then-503-with-retry-after", level="SHOULD"),
)


def by_name() -> dict[str, Entry]:
    return {e.fault: e for e in CATALOGUE}


def quick_set() -> tuple[Entry, ...]:
    return tuple(e for e in CATALOGUE if e.quick)
