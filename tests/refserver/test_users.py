"""/user-xxxx/describe: a user describes itself in full; another user sees the public fields only (users docs)."""

from __future__ import annotations

PUBLIC = {"id", "class", "first", "middle", "last", "handle"}


def test_a_user_describes_itself(client):
    desc = client.ok("/user-alice/describe", {})
    assert desc == {"id": "user-alice", "class": "user", "first": "alice", "middle": "", "last": "",
                    "handle": "alice", "email": "alice@localhost", "billTo": "user-alice"}


def test_another_user_gets_the_public_fields_only(client):
    # "When /user-xxxx/describe is invoked by any user other than user-xxxx ... only the ID, class, first,
    # middle, last, and handle fields are returned."
    desc = client.ok("/user-bob/describe", {})
    assert set(desc) == PUBLIC and desc["id"] == "user-bob" and desc["handle"] == "bob"
    assert set(client.ok("/user-alice/describe", {"fields": {"email": True}}, user="bob")) == {"id"}


def test_fields_and_default_fields_select(client):
    assert client.ok("/user-alice/describe", {"fields": {"handle": True}}) == {"id": "user-alice", "handle": "alice"}
    desc = client.ok("/user-alice/describe", {"defaultFields": True, "fields": {"email": False}})
    assert "email" not in desc and desc["billTo"] == "user-alice"
    assert client.ok("/user-alice/describe", {"defaultFields": False}) == {"id": "user-alice"}
    # dx describe sends the deprecated options; they are accepted (the server has nothing to list for them).
    assert client.ok("/user-alice/describe", {"appsInstalled": True, "subscriptions": True})["handle"] == "alice"


def test_bad_input_and_unknown_users(client):
    client.expect_error("/user-alice/describe", {"fields": {"email": 1}}, "InvalidInput", 422)
    client.expect_error("/user-alice/describe", {"defaultFields": "yes"}, "InvalidInput", 422)
    client.expect_error("/user-alice/describe", {"appsInstalled": "yes"}, "InvalidInput", 422)
    client.expect_error("/user-nobody/describe", {}, "ResourceNotFound", 404)
    client.expect_error("/user-B00000000000000000000000/describe", {}, "ResourceNotFound", 404)
    client.expect_error("/user-alice/describe", {}, "InvalidAuthentication", 401, user=None)


def test_user_update_is_not_there(client):
    answer = client.expect_error("/user-alice/update", {}, "ResourceNotFound", 404)
    assert "No API method /user-xxxx/update" in answer.json["error"]["message"]
