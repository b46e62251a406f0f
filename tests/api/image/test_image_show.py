"""GET /v2/images/{id}: who may see which image."""
from __future__ import annotations

import uuid

import pytest
from image_api_helpers import Api, check_error, project

ADMIN = "admin,member,reader"


def _image(api: Api, visibility: str) -> tuple[str, str]:
    owner = project()
    roles = ADMIN if visibility == "public" else None
    return owner, api.create(owner, roles=roles, visibility=visibility)["id"]


@pytest.mark.parametrize("visibility", ["private", "shared", "public", "community"])
def test_owner_sees_own_image(api: Api, visibility: str) -> None:
    owner, image_id = _image(api, visibility)
    image = api.show(owner, image_id)
    assert image["id"] == image_id and image["visibility"] == visibility


def test_reader_of_owner_project_sees_image(api: Api) -> None:
    owner, image_id = _image(api, "private")
    assert api.show(owner, image_id, roles="reader")["id"] == image_id


@pytest.mark.parametrize("visibility,code", [("private", 404), ("shared", 404),
                                             ("public", 200), ("community", 200)])
def test_other_project(api: Api, visibility: str, code: int) -> None:
    _owner, image_id = _image(api, visibility)
    resp = api.call("GET", "/v2/images/" + image_id, project())
    assert resp.status_int == code
    if code == 404:
        check_error(resp, 404)
    else:
        assert resp.json["id"] == image_id


@pytest.mark.parametrize("member_status", ["pending", "accepted", "rejected"])
def test_shared_image_visible_to_member(api: Api, member_status: str) -> None:
    owner, image_id = _image(api, "shared")
    member = project()
    api.add_member(owner, image_id, member)
    if member_status != "pending":
        api.set_member_status(member, image_id, member, member_status)
    assert api.show(member, image_id)["id"] == image_id
    # Only the named project gains access.
    api.show(project(), image_id, status=404)


@pytest.mark.parametrize("visibility", ["private", "shared", "public", "community"])
def test_admin_sees_everything(api: Api, visibility: str) -> None:
    _owner, image_id = _image(api, visibility)
    assert api.show(project(), image_id, roles=ADMIN)["id"] == image_id


def test_unknown_image_is_404(api: Api) -> None:
    check_error(api.call("GET", "/v2/images/%s" % uuid.uuid4(), project()), 404)
    check_error(api.call("GET", "/v2/images/not-a-uuid", project()), 404)


def test_show_without_token_is_401(api: Api) -> None:
    _owner, image_id = _image(api, "community")
    check_error(api.call("GET", "/v2/images/" + image_id, None), 401)


def test_show_body_is_the_create_body(api: Api) -> None:
    owner = project()
    created = api.create(owner, name="same", disk_format="raw", container_format="bare",
                         tags=["t"], custom="v")
    shown = api.show(owner, created["id"])
    assert shown == created


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_empty_image_id_is_404(api: Api, method: str) -> None:
    # /v2/images/ names an image with an empty id (Tempest's null-id tests), not the list.
    check_error(api.call(method, "/v2/images/", project()), 404)
