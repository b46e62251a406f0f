"""DELETE /v2/images/{id}, tags, and the deactivate/reactivate actions (without data)."""
from __future__ import annotations

import urllib.parse
import uuid

import pytest
from image_api_helpers import Api, check_error, project

ADMIN = "admin,member,reader"


# -- delete ---------------------------------------------------------------------------

def test_owner_deletes_then_404(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, name="doomed")["id"]
    resp = api.delete(owner, image_id)
    assert resp.body == b""
    check_error(api.call("GET", "/v2/images/" + image_id, owner), 404)
    check_error(api.delete(owner, image_id, status=404), 404)
    assert image_id not in api.list_ids(owner)


def test_protected_image_cannot_be_deleted(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, protected=True)["id"]
    check_error(api.delete(owner, image_id, status=403), 403)
    check_error(api.delete(project(), image_id, roles=ADMIN, status=403), 403)
    assert api.show(owner, image_id)["protected"] is True
    api.patch(owner, image_id, [{"op": "replace", "path": "/protected", "value": False}])
    api.delete(owner, image_id)
    api.show(owner, image_id, status=404)


def test_non_owner_delete(api: Api) -> None:
    owner = project()
    public_id = api.create(owner, roles=ADMIN, visibility="public")["id"]
    community_id = api.create(owner, visibility="community")["id"]
    private_id = api.create(owner, visibility="private")["id"]
    shared_id = api.create(owner, visibility="shared")["id"]
    stranger = project()
    check_error(api.delete(stranger, public_id, status=403), 403)
    check_error(api.delete(stranger, community_id, status=403), 403)
    check_error(api.delete(stranger, private_id, status=404), 404)
    check_error(api.delete(stranger, shared_id, status=404), 404)
    member = project()
    api.add_member(owner, shared_id, member)
    api.set_member_status(member, shared_id, member, "accepted")
    check_error(api.delete(member, shared_id, status=403), 403)
    for image_id in (public_id, community_id, private_id, shared_id):
        api.show(owner, image_id)


def test_reader_cannot_delete(api: Api) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    api.delete(owner, image_id, roles="reader", status=403)
    api.show(owner, image_id)


def test_admin_deletes_any_image(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, visibility="private")["id"]
    api.delete(project(), image_id, roles=ADMIN)
    api.show(owner, image_id, status=404)


def test_delete_of_shared_image_with_members(api: Api) -> None:
    owner, member = project(), project()
    image_id = api.create(owner)["id"]
    api.add_member(owner, image_id, member)
    api.delete(owner, image_id)
    api.show(member, image_id, status=404)
    api.call("GET", "/v2/images/%s/members" % image_id, owner, status=404)


def test_delete_unknown_image_is_404(api: Api) -> None:
    check_error(api.delete(project(), str(uuid.uuid4()), status=404), 404)


# -- tags -----------------------------------------------------------------------------

def _tag_path(image_id: str, tag: str) -> str:
    return "/v2/images/%s/tags/%s" % (image_id, urllib.parse.quote(tag, safe=""))


def test_add_and_delete_tags(api: Api) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    resp = api.call("PUT", _tag_path(image_id, "ready"), owner, status=204)
    assert resp.body == b""
    api.call("PUT", _tag_path(image_id, "x86 64"), owner, status=204)
    assert sorted(api.show(owner, image_id)["tags"]) == ["ready", "x86 64"]
    # Adding an existing tag again is fine and does not duplicate it.
    api.call("PUT", _tag_path(image_id, "ready"), owner, status=204)
    assert sorted(api.show(owner, image_id)["tags"]) == ["ready", "x86 64"]
    api.call("DELETE", _tag_path(image_id, "ready"), owner, status=204)
    assert api.show(owner, image_id)["tags"] == ["x86 64"]
    assert api.list_ids(owner, "tag=" + urllib.parse.quote("x86 64")) == [image_id]


def test_delete_missing_tag_is_404(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, tags=["a"])["id"]
    check_error(api.call("DELETE", _tag_path(image_id, "nope"), owner), 404)
    assert api.show(owner, image_id)["tags"] == ["a"]


def test_tag_too_long_is_400(api: Api) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    check_error(api.call("PUT", _tag_path(image_id, "t" * 256), owner), 400)
    api.call("PUT", _tag_path(image_id, "t" * 255), owner, status=204)


def test_tags_of_non_owner(api: Api) -> None:
    owner = project()
    public_id = api.create(owner, roles=ADMIN, visibility="public", tags=["keep"])["id"]
    private_id = api.create(owner, visibility="private", tags=["keep"])["id"]
    stranger = project()
    check_error(api.call("PUT", _tag_path(public_id, "mine"), stranger), 403)
    check_error(api.call("DELETE", _tag_path(public_id, "keep"), stranger), 403)
    check_error(api.call("PUT", _tag_path(private_id, "mine"), stranger), 404)
    check_error(api.call("DELETE", _tag_path(private_id, "keep"), stranger), 404)
    api.call("PUT", _tag_path(private_id, "mine"), owner, roles="reader", status=403)
    assert api.show(owner, public_id)["tags"] == ["keep"]
    assert api.show(owner, private_id)["tags"] == ["keep"]


def test_tags_of_unknown_image_are_404(api: Api) -> None:
    image_id = str(uuid.uuid4())
    check_error(api.call("PUT", _tag_path(image_id, "t"), project()), 404)
    check_error(api.call("DELETE", _tag_path(image_id, "t"), project()), 404)


# -- actions without data ---------------------------------------------------------------

@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_actions_need_admin(api: Api, action: str) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    check_error(api.call("POST", "/v2/images/%s/actions/%s" % (image_id, action), owner),
                403)


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_actions_on_queued_image_are_403(api: Api, action: str) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    check_error(api.call("POST", "/v2/images/%s/actions/%s" % (image_id, action), owner,
                         roles=ADMIN), 403)
    assert api.show(owner, image_id)["status"] == "queued"


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_actions_on_unknown_image_are_404(api: Api, action: str) -> None:
    check_error(api.call("POST", "/v2/images/%s/actions/%s" % (uuid.uuid4(), action),
                         project(), roles=ADMIN), 404)


def test_unknown_action_is_404(api: Api) -> None:
    owner = project()
    image_id = api.create(owner)["id"]
    check_error(api.call("POST", "/v2/images/%s/actions/explode" % image_id, owner,
                         roles=ADMIN), 404)
