"""Certification bundles: a run's evidence in one archive with a SHA-256 manifest, and its offline verification."""

from .bundle import BUNDLE_FORMAT, MANIFEST_FILE, REQUIRED_FILES, BundleError, write_bundle
from .scope import SCOPE_FULL, SCOPE_PARTIAL, missing_from_run, scope_record, suite_case_ids, suite_sha256
from .verify import FAIL, PARTIAL, PASS, Verification, verify_bundle

__all__ = ["BUNDLE_FORMAT", "FAIL", "MANIFEST_FILE", "PARTIAL", "PASS", "REQUIRED_FILES", "SCOPE_FULL",
           "SCOPE_PARTIAL", "BundleError", "Verification", "missing_from_run", "scope_record", "suite_case_ids",
           "suite_sha256", "verify_bundle", "write_bundle"]
