"""Per-project quotas ([quota] image_count_total, image_size_total) and the
per-image limits of [image]: 413 when exceeded, and nothing half-done behind."""
from __future__ import annotations

import pytest
from image_api_helpers import DATA_PATH, Api, check_error, project

# Read by the ``service`` fixture of conftest.py: this module's own image service.
SERVICE_CONF = {"quota": {"image_count_total": 2, "image_size_total": 1},
                "image": {"image_tag_quota": 3, "image_property_quota": 3,
                          "image_member_quota": 2}}
MIB = 1024 * 1024
ADMIN = "admin,member,reader"
needs_data = pytest.mark.skipif(not DATA_PATH, reason="the image data path is not written "
                                                      "yet")


def test_third_image_is_413(api: Api) -> None:
    owner = project()
    first = api.create(owner)["id"]
    api.create(owner)
    message = check_error(api.call("POST", "/v2/images", owner, json_body={"name": "3rd"}),
                          413)
    assert message
    assert len(api.list_ids(owner, "owner=" + owner)) == 2
    # The quota is per project...
    api.create(project())
    # ...and freed by a delete.
    api.delete(owner, first)
    api.create(owner)


def test_admin_creating_for_a_project_counts_against_it(api: Api) -> None:
    owner = project()
    api.create(owner)
    api.create(owner)
    check_error(api.call("POST", "/v2/images", project(), roles=ADMIN,
                         json_body={"owner": owner}), 413)


@needs_data
def test_upload_over_the_size_quota_is_413(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, disk_format="raw", container_format="bare")["id"]
    check_error(api.upload(owner, image_id, b"x" * (MIB + 1), status=413), 413)
    image = api.show(owner, image_id)
    assert image["status"] == "queued" and image["size"] is None
    api.upload(owner, image_id, b"x" * (MIB // 2))
    assert api.show(owner, image_id)["status"] == "active"
    # What is left is half a MiB.
    second = api.create(owner, disk_format="raw", container_format="bare")["id"]
    check_error(api.upload(owner, second, b"y" * (MIB // 2 + 1), status=413), 413)
    assert api.show(owner, second)["status"] == "queued"
    api.upload(owner, second, b"y" * (MIB // 2))
    assert api.show(owner, second)["size"] == MIB // 2


def test_tag_quota(api: Api) -> None:
    owner = project()
    check_error(api.call("POST", "/v2/images", owner,
                         json_body={"tags": ["a", "b", "c", "d"]}), 413)
    image_id = api.create(owner, tags=["a", "b", "c"])["id"]
    check_error(api.call("PUT", "/v2/images/%s/tags/d" % image_id, owner), 413)
    api.call("PUT", "/v2/images/%s/tags/a" % image_id, owner, status=204)  # already there
    api.patch(owner, image_id, [{"op": "replace", "path": "/tags",
                                 "value": ["a", "b", "c", "d"]}], status=413)
    assert sorted(api.show(owner, image_id)["tags"]) == ["a", "b", "c"]


def test_property_quota(api: Api) -> None:
    owner = project()
    check_error(api.call("POST", "/v2/images", owner,
                         json_body={"p1": "1", "p2": "2", "p3": "3", "p4": "4"}), 413)
    image_id = api.create(owner, p1="1", p2="2", p3="3")["id"]
    api.patch(owner, image_id, [{"op": "add", "path": "/p4", "value": "4"}], status=413)
    # Replacing and removing stay possible at the limit.
    api.patch(owner, image_id, [{"op": "replace", "path": "/p1", "value": "one"},
                                {"op": "remove", "path": "/p2"},
                                {"op": "add", "path": "/p4", "value": "4"}])


def test_member_quota(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, visibility="shared")["id"]
    api.add_member(owner, image_id, project())
    api.add_member(owner, image_id, project())
    check_error(api.add_member(owner, image_id, project(), status=413), 413)
