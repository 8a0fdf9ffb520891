"""Certification bundles: a run's evidence in one archive with a SHA-256 manifest, and its offline verification."""

from .bundle import BUNDLE_FORMAT, MANIFEST_FILE, REQUIRED_FILES, BundleError, write_bundle
from .verify import Verification, verify_bundle

__all__ = ["BUNDLE_FORMAT", "MANIFEST_FILE", "REQUIRED_FILES", "BundleError", "Verification", "verify_bundle",
           "write_bundle"]
