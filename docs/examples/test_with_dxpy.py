"""Example: testing code that uses dxpy against the reference server, with the `dx_server` fixture.

Nothing here is dxconform-specific but the fixture's name: installing dxconform registers it, and the
test body is plain dxpy, exactly as it would run against the DNAnexus platform.
"""

import dxpy


def upload_report(text: str, name: str) -> str:
    """The code under test: upload a small report into the current project and tag it."""
    handler = dxpy.upload_string(text, name=name, folder="/reports", tags=["report"], wait_on_close=True)
    return handler.get_id()


def test_upload_then_find(dx_server):
    file_id = upload_report("42 samples passed\n", "run-1.txt")

    found = list(dxpy.find_data_objects(classname="file", name="run-*.txt", name_mode="glob",
                                        project=dx_server.project, folder="/reports", describe=True))

    assert [hit["id"] for hit in found] == [file_id]
    assert found[0]["describe"]["state"] == "closed"
    assert found[0]["describe"]["tags"] == ["report"]
    assert dxpy.DXFile(file_id).read() == "42 samples passed\n"


def test_each_test_gets_a_fresh_server(dx_server):
    # The server of the previous test is gone: this project is new and empty.
    assert list(dxpy.find_data_objects(project=dx_server.project)) == []
    assert dxpy.api.system_whoami()["id"] == dx_server.user


def test_another_user_is_refused(dx_server):
    # bob is the server's second user: alice's project is not his to read.
    try:
        dxpy.api.project_describe(dx_server.project, auth=dx_server.auth("bob"))
    except dxpy.exceptions.DXAPIError as error:
        assert error.name in ("PermissionDenied", "ResourceNotFound")
    else:
        raise AssertionError("bob could describe alice's project")
