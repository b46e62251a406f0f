"""/v2/images/{id}/members: sharing an image with other projects."""
from __future__ import annotations

import uuid

import pytest
from image_api_helpers import TIMESTAMP, Api, check_error, project

ADMIN = "admin,member,reader"


def _members(image_id: str, member: str = "") -> str:
    return "/v2/images/%s/members" % image_id + ("/" + member if member else "")


def _shared(api: Api) -> tuple[str, str]:
    owner = project()
    return owner, api.create(owner, visibility="shared")["id"]


def test_add_member(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    resp = api.add_member(owner, image_id, member)
    assert resp.content_type == "application/json"
    body = resp.json
    assert body["image_id"] == image_id and body["member_id"] == member
    assert body["status"] == "pending"
    assert body["schema"] == "/v2/schemas/member"
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])


def test_duplicate_member_is_409(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    check_error(api.add_member(owner, image_id, member, status=409), 409)


@pytest.mark.parametrize("visibility", ["private", "public", "community"])
def test_only_shared_images_have_members(api: Api, visibility: str) -> None:
    owner = project()
    roles = ADMIN if visibility == "public" else None
    image_id = api.create(owner, roles=roles, visibility=visibility)["id"]
    check_error(api.add_member(owner, image_id, project(), status=403), 403)


@pytest.mark.parametrize("body", [{}, {"member": 5}, {"member": ""}, {"member": None},
                                  {"member_id": "x"}, [], "x"])
def test_add_member_with_bad_body_is_400(api: Api, body: object) -> None:
    owner, image_id = _shared(api)
    check_error(api.call("POST", _members(image_id), owner, json_body=body), 400)


def test_add_member_by_non_owner(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    api.set_member_status(member, image_id, member, "accepted")
    # A member sees the image but may not share it further.
    check_error(api.add_member(member, image_id, project(), status=403), 403)
    # A stranger does not even see it.
    check_error(api.add_member(project(), image_id, project(), status=404), 404)


def test_add_member_to_unknown_image_is_404(api: Api) -> None:
    api.add_member(project(), str(uuid.uuid4()), project(), status=404)


def test_owner_lists_all_members_member_only_itself(api: Api) -> None:
    owner, image_id = _shared(api)
    first, second = project(), project()
    api.add_member(owner, image_id, first)
    api.add_member(owner, image_id, second)
    body = api.call("GET", _members(image_id), owner, status=200).json
    assert body["schema"] == "/v2/schemas/members"
    assert sorted(m["member_id"] for m in body["members"]) == sorted([first, second])
    assert all(m["image_id"] == image_id and m["status"] == "pending"
               for m in body["members"])
    mine = api.call("GET", _members(image_id), first, status=200).json["members"]
    assert [m["member_id"] for m in mine] == [first]
    check_error(api.call("GET", _members(image_id), project()), 404)


def test_empty_member_list(api: Api) -> None:
    owner, image_id = _shared(api)
    assert api.call("GET", _members(image_id), owner, status=200).json["members"] == []


def test_member_list_of_private_image_is_403(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, visibility="private")["id"]
    check_error(api.call("GET", _members(image_id), owner), 403)


def test_show_membership(api: Api) -> None:
    owner, image_id = _shared(api)
    first, second = project(), project()
    api.add_member(owner, image_id, first)
    api.add_member(owner, image_id, second)
    body = api.call("GET", _members(image_id, first), first, status=200).json
    assert body["member_id"] == first and body["status"] == "pending"
    assert body["schema"] == "/v2/schemas/member"
    assert api.call("GET", _members(image_id, second), owner, status=200).json[
        "member_id"] == second
    # A member cannot look at another project's membership.
    check_error(api.call("GET", _members(image_id, second), first), 404)
    check_error(api.call("GET", _members(image_id, project()), owner), 404)
    check_error(api.call("GET", _members(image_id, first), project()), 404)


@pytest.mark.parametrize("status", ["accepted", "rejected", "pending"])
def test_member_sets_its_status(api: Api, status: str) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    body = api.set_member_status(member, image_id, member, status).json
    assert body["status"] == status and body["member_id"] == member
    assert api.call("GET", _members(image_id, member), owner).json["status"] == status


def test_member_changes_its_mind(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    for status in ("accepted", "rejected", "pending", "accepted"):
        assert api.set_member_status(member, image_id, member, status).json[
            "status"] == status


@pytest.mark.parametrize("value", ["maybe", "ACCEPTED", "", None, 1, ["accepted"]])
def test_invalid_member_status_is_400(api: Api, value: object) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    check_error(api.set_member_status(member, image_id, member, value, status=400), 400)


def test_member_status_body_needs_status(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    check_error(api.call("PUT", _members(image_id, member), member, json_body={}), 400)


def test_only_the_member_sets_the_status(api: Api) -> None:
    owner, image_id = _shared(api)
    first, second = project(), project()
    api.add_member(owner, image_id, first)
    api.add_member(owner, image_id, second)
    check_error(api.set_member_status(owner, image_id, first, "accepted", status=403), 403)
    resp = api.set_member_status(second, image_id, first, "accepted", status=None)
    assert resp.status_int in (403, 404)
    check_error(api.set_member_status(project(), image_id, first, "accepted", status=404),
                404)
    assert api.call("GET", _members(image_id, first), owner).json["status"] == "pending"


def test_status_of_missing_membership_is_404(api: Api) -> None:
    owner, image_id = _shared(api)
    api.add_member(owner, image_id, project())
    stranger = project()
    check_error(api.set_member_status(stranger, image_id, stranger, "accepted", status=404),
                404)


def test_remove_member(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    api.set_member_status(member, image_id, member, "accepted")
    check_error(api.call("DELETE", _members(image_id, member), member), 403)
    resp = api.call("DELETE", _members(image_id, member), owner, status=204)
    assert resp.body == b""
    assert api.call("GET", _members(image_id), owner).json["members"] == []
    api.show(member, image_id, status=404)
    check_error(api.call("DELETE", _members(image_id, member), owner), 404)
    # The project can be added again.
    assert api.add_member(owner, image_id, member).json["status"] == "pending"


def test_remove_member_by_stranger_is_404(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    check_error(api.call("DELETE", _members(image_id, member), project()), 404)


def test_membership_and_listing(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    assert image_id not in api.list_ids(member)
    assert image_id in api.list_ids(member, "member_status=pending")
    api.set_member_status(member, image_id, member, "accepted")
    assert image_id in api.list_ids(member)
    assert image_id in api.list_ids(member, "visibility=shared")
    api.set_member_status(member, image_id, member, "rejected")
    assert image_id not in api.list_ids(member)
    assert image_id in api.list_ids(member, "member_status=rejected")
    assert image_id in api.list_ids(member, "member_status=all")
    assert image_id not in api.list_ids(member, "member_status=accepted")
    # Whatever the member decides, the image stays in the owner's listing.
    assert image_id in api.list_ids(owner)


def test_admin_may_manage_members(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.call("POST", _members(image_id), project(), roles=ADMIN,
             json_body={"member": member}, status=200)
    listed = api.call("GET", _members(image_id), project(), roles=ADMIN).json["members"]
    assert [m["member_id"] for m in listed] == [member]
    api.call("DELETE", _members(image_id, member), project(), roles=ADMIN, status=204)


def test_members_lose_access_when_image_turns_private(api: Api) -> None:
    owner, image_id = _shared(api)
    member = project()
    api.add_member(owner, image_id, member)
    api.set_member_status(member, image_id, member, "accepted")
    api.patch(owner, image_id, [{"op": "replace", "path": "/visibility", "value": "private"}])
    api.show(member, image_id, status=404)
    assert image_id not in api.list_ids(member)
    check_error(api.call("GET", _members(image_id), owner), 403)
    api.patch(owner, image_id, [{"op": "replace", "path": "/visibility", "value": "shared"}])
    api.show(member, image_id)
    assert image_id in api.list_ids(member)
