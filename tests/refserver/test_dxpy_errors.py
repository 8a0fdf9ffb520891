"""Server errors reach dxpy, unmodified, as the right exception classes with the documented HTTP codes."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

MISSING_RECORD = "record-" + "B" * 24
MISSING_PROJECT = "project-012301230123012301230123"


def raised(dx, call) -> Exception:
    """The dxpy exception `call` raises (dxpy retries nothing here: every case is a 4xx)."""
    with pytest.raises(dx.exceptions.DXAPIError) as info:
        call()
    return info.value


def test_invalid_authentication(dx, dx_project, auth_as):
    error = raised(dx, lambda: dx.api.system_whoami({}, auth=auth_as(token="no-such-token")))
    assert type(error) is dx.exceptions.InvalidAuthentication
    assert (error.name, error.code) == ("InvalidAuthentication", 401)
    assert dx.api.system_whoami({}) == {"id": "user-alice"}


def test_resource_not_found(dx, dx_project):
    error = raised(dx, lambda: dx.DXRecord(MISSING_RECORD, project=dx_project).describe())
    assert type(error) is dx.exceptions.ResourceNotFound and error.code == 404
    error = raised(dx, lambda: dx.DXProject(MISSING_PROJECT).describe())
    assert type(error) is dx.exceptions.ResourceNotFound


def test_not_visible_is_resource_not_found(dx, dx_project, auth_as):
    """bob has no access to alice's project: its existence is not revealed."""
    error = raised(dx, lambda: dx.api.project_describe(dx_project, {}, auth=auth_as("bob")))
    assert type(error) is dx.exceptions.ResourceNotFound


def test_permission_denied(dx, dx_project, auth_as):
    dx.DXProject(dx_project).invite("user-bob", "VIEW", send_email=False)
    record = dx.new_dxrecord(name="alice's")
    bob = auth_as("bob")
    assert dx.api.record_describe(record.get_id(), {"project": dx_project}, auth=bob)["name"] == "alice's"
    error = raised(dx, lambda: dx.api.record_new({"project": dx_project}, auth=bob))
    assert type(error) is dx.exceptions.PermissionDenied
    assert error.code == 401  # the server's own error table (as copied by dxfuse) says 401, not 403
    error = raised(dx, lambda: dx.api.record_rename(record.get_id(), {"project": dx_project, "name": "bob's"},
                                                    auth=bob))
    assert type(error) is dx.exceptions.PermissionDenied


def test_invalid_input(dx, dx_project):
    cases = [
        lambda: dx.api.record_new({"project": 5}),
        lambda: dx.DXHTTPRequest("/record/new", [], max_retries=0),  # not a hash
        lambda: dx.new_dxrecord(tags=[""]),
        lambda: dx.new_dxrecord(properties={"k": "v" * 701}),
        lambda: dx.DXProject(dx_project).new_folder("no-leading-slash"),
    ]
    for case in cases:
        error = raised(dx, case)
        assert type(error) is dx.exceptions.InvalidInput, error
        assert error.code == 422


def test_invalid_state(dx, dx_project):
    record = dx.new_dxrecord(close=True)
    error = raised(dx, lambda: record.set_details({"late": True}))
    assert type(error) is dx.exceptions.InvalidState and error.code == 422
    project = dx.DXProject(dx_project)
    project.new_folder("/busy")
    dx.new_dxrecord(folder="/busy")
    error = raised(dx, lambda: project.remove_folder("/busy"))
    assert type(error) is dx.exceptions.InvalidState


def test_malformed_json_through_dxpy(dx, dx_project):
    # DXHTTPRequest with jsonify_data=False sends the body as given: a body that is not JSON.
    error = raised(dx, lambda: dx.DXHTTPRequest("/system/whoami", "{not json", jsonify_data=False,
                                                max_retries=0))
    assert type(error) is dx.exceptions.MalformedJSON and error.code == 400


def test_nonce_over_128_bytes_is_invalid_input(dx, dx_project):
    error = raised(dx, lambda: dx.api.record_new({"project": dx_project, "nonce": "n" * 129}))
    assert type(error) is dx.exceptions.InvalidInput
    assert isinstance(error.msg, str) and error.msg
