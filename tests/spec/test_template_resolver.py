"""A route as a case writes it (key, concrete path, step template) resolved to a route key of the registry."""

from __future__ import annotations

import pytest

from conformance.spec import Spec
from conformance.spec.routes import TemplateResolver


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
