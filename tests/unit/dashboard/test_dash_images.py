"""The images panel: table, refreshing rows, upload (streamed), edit as a JSON
patch, sharing, and what the project may see (404) or change (403)."""
from __future__ import annotations

import re
from typing import Any
from unittest import mock

from django.core.files.uploadedfile import UploadedFile
from openstack.image.v2.image import Image
from openstack.image.v2.member import Member
from openstack.identity.v3.project import Project

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID, http_error

QCOW2 = b"QFI\xfb" + b"\0" * 508


def image(image_id: str = "img-1", **attrs: Any) -> Image:
    body = {"id": image_id, "name": image_id, "status": "active", "visibility": "private",
            "owner": PROJECT_ID, "is_protected": False, "disk_format": "qcow2",
            "container_format": "bare", "size": 1024 * 1024, "min_disk": 0, "min_ram": 0}
    body.update(attrs)
    return Image(**body)


def _row(body: str, row_id: str) -> str:
    match = re.search(r'<tr id="row-%s".*?</tr>' % re.escape(row_id), body, re.S)
    assert match, "no row %s" % row_id
    return match.group(0)


def _create_data(**extra: Any) -> dict[str, Any]:
    data = {"name": "cirros", "disk_format": "qcow2", "container_format": "bare",
            "visibility": "private", "min_disk": "1", "min_ram": "64", "kernel_id": "",
            "ramdisk_id": "", "os_distro": "cirros", "properties": "hw_disk_bus=virtio"}
    data.update(extra)
    return data


def _upload(name: str = "x.qcow2", content: bytes = QCOW2) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_dash_images_table_one_call_and_actions(client: Any, conn: mock.MagicMock) -> None:
    conn.image.images.return_value = [
        image("mine"), image("pub", visibility="public", owner=OTHER_PROJECT_ID),
        image("prot", is_protected=True),
        image("snap", image_type="snapshot", status="queued")]
    resp = client.get("/project/images/")
    assert resp.status_code == 200
    conn.image.images.assert_called_once_with()
    body = resp.content.decode()
    assert 'id="images"' in body and 'href="/project/images/create/"' in body
    mine = _row(body, "mine")
    for label in ("Launch", "Create Volume", "Edit", "Share", "Delete"):
        assert ">%s<" % label in mine
    assert 'href="/project/instances/launch/?image=mine"' in mine
    assert 'href="/project/volumes/create/?image=mine"' in mine
    assert "this project" in mine and "data-refresh" not in mine
    public = _row(body, "pub")
    assert ">Launch<" in public and ">Edit<" not in public and ">Delete<" not in public
    assert "another project" in public
    assert ">Delete<" not in _row(body, "prot") and ">Edit<" in _row(body, "prot")
    snap = _row(body, "snap")
    assert 'data-refresh="/project/images/snap/row/"' in snap
    assert "Snapshot" in snap and ">Launch<" not in snap


def test_dash_images_row_refresh(client: Any, conn: mock.MagicMock) -> None:
    conn.image.get_image.return_value = image("img-1", status="saving")
    resp = client.get("/project/images/img-1/row/")
    body = resp.content.decode()
    assert resp.status_code == 200 and body.strip().startswith('<tr id="row-img-1"')
    assert "saving" in body and "data-refresh" in body
    conn.image.get_image.return_value = image("img-1")
    assert "data-refresh" not in client.get("/project/images/img-1/row/").content.decode()


def test_dash_images_admin_sees_only_what_the_project_sees(admin_client: Any,
                                                            conn: mock.MagicMock) -> None:
    everything = [image("mine"), image("theirs", owner=OTHER_PROJECT_ID),
                  image("pub", visibility="public", owner=OTHER_PROJECT_ID),
                  image("shared-ok", visibility="shared", owner=OTHER_PROJECT_ID),
                  image("shared-no", visibility="shared", owner=OTHER_PROJECT_ID),
                  image("comm", visibility="community", owner=OTHER_PROJECT_ID)]
    conn.image.images.side_effect = lambda **q: (
        [everything[3]] if q.get("visibility") == "shared" else everything)
    body = admin_client.get("/project/images/").content.decode()
    shown = set(re.findall(r'<tr id="row-([^"]+)"', body))
    assert shown == {"mine", "pub", "shared-ok"}
    conn.image.images.assert_any_call(visibility="shared", member_status="accepted")


def test_dash_images_detail_and_404s(client: Any, admin_client: Any,
                                     conn: mock.MagicMock) -> None:
    conn.image.get_image.return_value = image("img-1", os_distro="cirros", foo="bar")
    body = client.get("/project/images/img-1/").content.decode()
    assert "os_distro" in body and "cirros" in body and "foo" in body
    # Glance hides other projects' private images from members: 404.
    conn.image.get_image.side_effect = http_error(404, "No image found")
    assert client.get("/project/images/nope/").status_code == 404
    # An admin's token sees another project's private image: still 404 here.
    conn.image.get_image.side_effect = None
    conn.image.get_image.return_value = image("theirs", owner=OTHER_PROJECT_ID)
    for path in ("", "row/", "edit/", "members/"):
        assert admin_client.get("/project/images/theirs/" + path).status_code == 404
    assert admin_client.post("/project/images/theirs/delete/").status_code == 404
    conn.image.delete_image.assert_not_called()
    # ... a shared one we are not a member of too; one we are a member of is shown.
    conn.image.get_image.return_value = image("sh", visibility="shared", owner=OTHER_PROJECT_ID)
    conn.image.get_member.side_effect = http_error(404, "no member")
    assert admin_client.get("/project/images/sh/").status_code == 404
    conn.image.get_member.side_effect = None
    assert admin_client.get("/project/images/sh/").status_code == 200
    # Public images of others are visible but not ours to change (403).
    conn.image.get_image.return_value = image("pub", visibility="public", owner=OTHER_PROJECT_ID)
    assert admin_client.get("/project/images/pub/").status_code == 200
    assert client.get("/project/images/pub/edit/").status_code == 403


def test_dash_images_create_streams_the_file(client: Any, conn: mock.MagicMock) -> None:
    conn.image.create_image.return_value = image("new", name="cirros")
    data = _create_data(properties="hw_disk_bus=virtio\n\nos_type = linux", image_file=_upload())
    resp = client.post("/project/images/create/", data)
    assert resp.status_code == 302 and resp["Location"] == "/project/images/"
    args, kwargs = conn.image.create_image.call_args
    assert args == ("cirros",)
    upload = kwargs.pop("data")
    assert isinstance(upload, UploadedFile) and upload.size == len(QCOW2)
    assert kwargs == {"size": len(QCOW2), "disk_format": "qcow2", "container_format": "bare",
                      "visibility": "private", "protected": False, "min_disk": 1,
                      "min_ram": 64, "allow_duplicates": True, "disable_vendor_agent": False,
                      "validate_checksum": False, "wait": False,
                      "meta": {"hw_disk_bus": "virtio", "os_type": "linux",
                               "os_distro": "cirros"}}


def test_dash_images_create_page_is_a_multipart_upload(client: Any) -> None:
    body = client.get("/project/images/create/").content.decode()
    assert 'enctype="multipart/form-data"' in body and 'data-upload="1"' in body
    assert 'id="upload-bar"' in body and 'value="public"' not in body


def test_dash_images_create_validates_first(client: Any, admin_client: Any,
                                           conn: mock.MagicMock) -> None:
    resp = client.post("/project/images/create/", _create_data())
    assert resp.status_code == 400 and "This field is required" in resp.content.decode()
    bad = [("properties", "no equals sign", "Line 1 is not key=value"),
           ("properties", "a=1\nname=x", "Line 2: name cannot be set here"),
           ("properties", "a=1\na=2", "a is given twice"),
           ("visibility", "public", "Select a valid choice"),
           ("min_disk", "-1", "greater than or equal to 0")]
    for field, value, error in bad:
        resp = client.post("/project/images/create/",
                           _create_data(image_file=_upload(), **{field: value}))
        assert resp.status_code == 400 and error in resp.content.decode(), error
    empty = client.post("/project/images/create/", _create_data(image_file=_upload(content=b"")))
    assert empty.status_code == 400
    conn.image.create_image.assert_not_called()
    # An admin may make it public.
    conn.image.create_image.return_value = image("new")
    resp = admin_client.post("/project/images/create/",
                             _create_data(image_file=_upload(), visibility="public"))
    assert resp.status_code == 302
    assert conn.image.create_image.call_args.kwargs["visibility"] == "public"


def test_dash_images_create_shows_a_format_mismatch(client: Any, conn: mock.MagicMock) -> None:
    err = http_error(415, "Unsupported Media Type")
    err.response.json.side_effect = ValueError("not json")
    err.response.text = ("415 Unsupported Media Type\n\nImage data does not match the declared "
                         "disk_format qcow2 (the data is raw).\n\n   ")
    conn.image.create_image.side_effect = err
    resp = client.post("/project/images/create/", _create_data(image_file=_upload()))
    body = resp.content.decode()
    assert resp.status_code == 400
    assert "Image data does not match the declared disk_format qcow2 (the data is raw)." in body
    assert "415 Unsupported" not in body and 'value="cirros"' in body


def test_dash_images_edit_sends_a_json_patch(client: Any, conn: mock.MagicMock) -> None:
    conn.image.get_image.return_value = image(
        "img-1", name="old", os_distro="cirros", foo="bar", keep="1", stores="file",
        **{"owner_specified.openstack.md5": ""})
    page = client.get("/project/images/img-1/edit/").content.decode()
    assert "foo=bar" in page and "keep=1" in page and "stores" not in page
    assert "owner_specified" not in page and 'value="cirros"' in page
    conn.image.patch.return_value = mock.Mock(status_code=200, headers={})
    resp = client.post("/project/images/img-1/edit/", {
        "name": "new", "visibility": "shared", "min_disk": "2", "min_ram": "0",
        "os_distro": "", "kernel_id": "k-1", "ramdisk_id": "",
        "properties": "keep=1\nfoo=baz\nadded=x"})
    assert resp.status_code == 302 and resp["Location"] == "/project/images/img-1/"
    args, kwargs = conn.image.patch.call_args
    assert args == ("/images/img-1",)
    assert kwargs["headers"] == {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    assert kwargs["json"] == [
        {"op": "replace", "path": "/name", "value": "new"},
        {"op": "replace", "path": "/visibility", "value": "shared"},
        {"op": "replace", "path": "/min_disk", "value": 2},
        {"op": "remove", "path": "/os_distro"},
        {"op": "add", "path": "/added", "value": "x"},
        {"op": "replace", "path": "/foo", "value": "baz"},
        {"op": "add", "path": "/kernel_id", "value": "k-1"}]


def test_dash_images_edit_shows_the_refusal(client: Any, conn: mock.MagicMock) -> None:
    conn.image.get_image.return_value = image("img-1")
    conn.image.patch.return_value = mock.Mock(
        status_code=403, headers={}, text="", reason="Forbidden",
        json=mock.Mock(return_value={"error": {"message": "Attribute 'x' is read-only."}}))
    resp = client.post("/project/images/img-1/edit/", {
        "name": "img-1", "visibility": "private", "min_disk": "0", "min_ram": "0",
        "properties": "x=1"})
    assert resp.status_code == 400 and "Attribute &#x27;x&#x27; is read-only." in \
        resp.content.decode()


def test_dash_images_members(client: Any, admin_client: Any, conn: mock.MagicMock) -> None:
    conn.image.get_image.return_value = image("img-1")
    body = client.get("/project/images/img-1/members/").content.decode()
    assert 'id="not-shared"' in body and "only images whose visibility is" in body
    conn.image.members.assert_not_called()
    conn.image.get_image.return_value = image("img-1", visibility="shared")
    conn.image.members.return_value = [Member(member_id=OTHER_PROJECT_ID, status="pending")]
    body = client.get("/project/images/img-1/members/").content.decode()
    assert "other (%s)" % OTHER_PROJECT_ID in body and "pending" in body
    # A project of the user's own list, by name: no lookup needed.
    resp = client.post("/project/images/img-1/members/", {"project": "other"})
    assert resp.status_code == 302
    assert conn.image.add_member.call_args.kwargs == {"member": OTHER_PROJECT_ID}
    # Another project: a member cannot look names up (403), an ID is taken as is.
    conn.identity.find_project.side_effect = http_error(403, "not allowed")
    resp = client.post("/project/images/img-1/members/", {"project": "admin"})
    assert resp.status_code == 400 and "give the project&#x27;s ID" in resp.content.decode()
    pid = "a50c47add0544fbb9eb7796c0306c4a2"
    assert client.post("/project/images/img-1/members/", {"project": pid}).status_code == 302
    assert conn.image.add_member.call_args.kwargs == {"member": pid}
    # An admin looks the name up.
    conn.identity.find_project.side_effect = None
    conn.identity.find_project.return_value = Project(id="p-adm", name="admin")
    assert admin_client.post("/project/images/img-1/members/",
                             {"project": "admin"}).status_code == 302
    assert conn.image.add_member.call_args.kwargs == {"member": "p-adm"}
    resp = client.post("/project/images/img-1/members/%s/delete/" % pid)
    assert resp.status_code == 302
    conn.image.remove_member.assert_called_once_with(pid, conn.image.get_image.return_value,
                                                     ignore_missing=False)


def test_dash_images_delete(client: Any, conn: mock.MagicMock) -> None:
    conn.image.get_image.return_value = image("img-1")
    assert client.get("/project/images/img-1/delete/").status_code == 405
    resp = client.post("/project/images/img-1/delete/")
    assert resp.status_code == 302
    conn.image.delete_image.assert_called_once_with(conn.image.get_image.return_value,
                                                    ignore_missing=False)
    conn.image.delete_image.side_effect = http_error(403, "Image img-1 is protected")
    conn.image.images.return_value = []
    page = client.post("/project/images/img-1/delete/", follow=True).content.decode()
    assert "Image img-1 is protected (HTTP 403)" in page
