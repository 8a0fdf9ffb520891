"""dxpy, unmodified, uploads files to the reference server and reads them back (single, empty, multi-part)."""

from __future__ import annotations

import hashlib
import random

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

MiB = 1024 * 1024


def payload(size: int, seed: int) -> bytes:
    """Incompressible, reproducible test data (so a part mix-up cannot go unnoticed)."""
    return random.Random(seed).randbytes(size)


def test_upload_string_then_read_back(dx, dx_project):
    handler = dx.upload_string("hello, world\n", project=dx_project, name="hello.txt", media_type="text/plain",
                               tags=["greeting"], wait_on_close=True)
    desc = handler.describe()
    assert desc["state"] == "closed"
    assert desc["size"] == len(b"hello, world\n")
    assert (desc["name"], desc["project"], desc["folder"], desc["tags"]) == ("hello.txt", dx_project, "/",
                                                                           ["greeting"])
    assert desc["media"] == "text/plain"
    assert dx.DXFile(handler.get_id(), project=dx_project).read() == "hello, world\n"


def test_read_back_as_bytes_and_in_ranges(dx, dx_project):
    data = payload(300_000, seed=1)  # larger than dxpy's first 64 KiB read, so several Range GETs
    handler = dx.upload_string(data, project=dx_project, wait_on_close=True)
    whole = dx.DXFile(handler.get_id(), project=dx_project, mode="rb")
    assert whole.read() == data
    partial = dx.DXFile(handler.get_id(), project=dx_project, mode="rb")
    partial.seek(123_456)
    assert partial.read(1000) == data[123_456:124_456]


def test_empty_file_round_trip(dx, dx_project):
    handler = dx.upload_string("", project=dx_project, name="empty", wait_on_close=True)
    desc = handler.describe()
    assert (desc["state"], desc["size"]) == ("closed", 0)
    assert dx.DXFile(handler.get_id(), project=dx_project).read() == ""


@pytest.mark.slow
def test_multi_part_upload_local_file(dx, dx_project, tmp_path):
    data = payload(12 * MiB, seed=2)
    source = tmp_path / "twelve.bin"
    source.write_bytes(data)
    # 5 MiB is the server's minimumPartSize; dxpy raises a smaller hint to it, so 12 MiB is 5 + 5 + 2.
    handler = dx.upload_local_file(str(source), project=dx_project, write_buffer_size=5 * MiB,
                                   wait_on_close=True)
    desc = handler.describe(fields={"parts", "size", "name", "state"})
    assert (desc["name"], desc["state"], desc["size"]) == ("twelve.bin", "closed", len(data))
    assert sorted(desc["parts"], key=int) == ["1", "2", "3"]
    for index, (start, end) in {"1": (0, 5 * MiB), "2": (5 * MiB, 10 * MiB), "3": (10 * MiB, 12 * MiB)}.items():
        part = desc["parts"][index]
        assert part["size"] == end - start
        assert part["md5"] == hashlib.md5(data[start:end]).hexdigest()
    # download_dxfile checks every part's md5 as it goes.
    target = tmp_path / "back.bin"
    dx.download_dxfile(handler.get_id(), str(target), project=dx_project)
    assert target.read_bytes() == data


@pytest.mark.slow
def test_multi_part_upload_string(dx, dx_project):
    # upload_string writes through dxpy's default 16 MiB buffer, so just over 16 MiB makes two parts.
    data = payload(16 * MiB + 4096, seed=3)
    handler = dx.upload_string(data, project=dx_project, name="two-parts.bin", wait_on_close=True)
    desc = handler.describe(fields={"parts", "size"})
    assert desc["size"] == len(data)
    assert {k: v["size"] for k, v in desc["parts"].items()} == {"1": 16 * MiB, "2": 4096}
    assert dx.DXFile(handler.get_id(), project=dx_project, mode="rb").read() == data


def test_file_new_nonce_survives_a_retry(dx, dx_project):
    """dxpy keeps an explicit nonce; sending the same /file/new twice (a retry) must give one file."""
    request = {"project": dx_project, "name": "once.txt", "nonce": "dxconform-file-retry-1"}
    first = dx.api.file_new(dict(request))
    second = dx.api.file_new(dict(request))
    assert first["id"] == second["id"]
    found = list(dx.find_data_objects(classname="file", project=dx_project, name="once.txt"))
    assert [r["id"] for r in found] == [first["id"]]
    with pytest.raises(dx.exceptions.InvalidInput):
        dx.api.file_new({**request, "name": "other.txt"})


def test_file_new_automatic_nonce_makes_distinct_files(dx, dx_project):
    """Without an explicit nonce dxpy invents a fresh one per call: two calls, two files."""
    first = dx.api.file_new({"project": dx_project, "name": "same"})
    second = dx.api.file_new({"project": dx_project, "name": "same"})
    assert first["id"] != second["id"]


def test_reading_an_open_file_is_refused(dx, dx_project):
    handler = dx.upload_string("not yet", project=dx_project, keep_open=True)
    assert handler.describe()["state"] == "open"
    with pytest.raises(dx.exceptions.InvalidState):
        dx.api.file_download(handler.get_id(), {"project": dx_project})


def test_upload_to_a_closed_file_is_invalid_state(dx, dx_project):
    handler = dx.upload_string("done", project=dx_project, wait_on_close=True)
    with pytest.raises(dx.exceptions.InvalidState):
        dx.api.file_upload(handler.get_id(), {"index": 2, "size": 1, "md5": hashlib.md5(b"x").hexdigest()})
