"""Images: the table (with self-refreshing rows), detail and delete."""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.panels.project.images import access
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

NS = "project-images"
LAUNCH_URL = "/project/instances/launch/"


def _url(name: str) -> Callable[[Any], str]:
    return lambda image: reverse("%s:%s" % (NS, name), args=[image.id])


def _yes(value: Any) -> str:
    return "Yes" if value else "No"


def actions(request: Any) -> list[tables.Action]:
    def active(image: Any) -> bool:
        return bool(image.status == "active")

    def mine(image: Any) -> bool:
        return access.owned(request, image)

    return [
        tables.Action("Launch", lambda i: LAUNCH_URL + "?" + urlencode({"image": i.id}),
                      "get", active),
        tables.Action("Create Volume", lambda i: reverse("project-volumes:create") + "?"
                      + urlencode({"image": i.id}), "get", active),
        tables.Action("Edit", _url("edit"), "get", mine),
        tables.Action("Share", _url("members"), "get", mine),
        tables.Action("Delete", _url("delete"), allowed=lambda i: mine(i) and not i.is_protected,
                      danger=True, confirm="Delete this image? Its data is gone for good."),
    ]


def table(request: Any, rows: list[Any]) -> tables.Table:
    return tables.Table(
        name="images", title="Images",
        columns=[
            tables.Column("name", "Name", link=_url("detail"),
                          display=lambda i: i.name or i.id),
            tables.Column("type", "Type", display=access.image_type),
            tables.Column("status", "Status", status=True),
            tables.Column("visibility", "Visibility"),
            tables.Column("protected", "Protected", display=lambda i: _yes(i.is_protected)),
            tables.Column("disk_format", "Disk format"),
            tables.Column("size", "Size", display=lambda i: fmt.size(i.size)),
            tables.Column("owner", "Owner", display=lambda i: (
                "this project" if access.owned(request, i) else "another project")),
        ],
        rows=rows, actions=actions(request),
        table_actions=[tables.Action("Create Image", reverse(NS + ":create"), "get")],
        row_url=_url("row"),
        empty="No images: upload one with Create Image.")


def listed(request: Any) -> list[Any]:
    """The images Glance lists. An admin's token lists every project's images,
    so for it only those a member would see are kept (one more call: the
    shared images this project accepted)."""
    image_api = access.glance(request)
    images = list(image_api.images())
    if not request.stratus_user.is_admin:
        return images
    accepted = {i.id for i in image_api.images(visibility="shared", member_status="accepted")}
    return [i for i in images if access.visible(request, i, accepted)
            and (i.visibility != "community" or access.owned(request, i))]


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Images", table(request, listed(request)))


def row(request: Any, image_id: str) -> HttpResponse:
    image = access.get_visible(request, image_id)
    return tables.row_response(request, table(request, [image]), image)


def detail(request: Any, image_id: str) -> HttpResponse:
    image = access.get_visible(request, image_id)
    props = access.properties(image)
    return render(request, "project/images/detail.html", {
        "title": image.name or image.id, "image": image, "properties": props,
        "type": access.image_type(image), "owned": access.owned(request, image),
        "actions": tables.links(actions(request), image)})


@require_POST
def delete(request: Any, image_id: str) -> HttpResponse:
    def apply() -> str:
        image = access.get_owned(request, image_id)
        access.glance(request).delete_image(image, ignore_missing=False)
        return "Image %s deleted." % (image.name or image.id)

    return ui_forms.act(request, apply, reverse(NS + ":index"))
