"""Inside a container: browse pseudo-folders, upload, download (streamed),
create and delete folders, delete objects.

Object names travel in the ``name`` query parameter and folders in ``prefix``,
so any UTF-8 name (slashes, spaces, ``?``, ``#``) survives the URL.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header

from dashboard import cloud
from dashboard.panels.project.containers import forms as c_forms
from dashboard.panels.project.containers import swift
from dashboard.panels.project.containers.views import browse_url
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

PAGE = 500


def parent(name: str) -> str:
    """The folder holding ``name`` ('a/b/c' and 'a/b/c/' are both in 'a/b/')."""
    base = name[:-1] if name.endswith("/") else name
    return base.rsplit("/", 1)[0] + "/" if "/" in base else ""


def crumbs(container: str, prefix: str) -> list[dict[str, str]]:
    """The path to ``prefix``: the container, then each folder level."""
    out = [{"label": container, "url": browse_url(container)}]
    parts = prefix.split("/")
    path = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if last and not part:
            break
        path = prefix if last else path + part + "/"
        out.append({"label": part or "(empty)", "url": browse_url(container, path)})
    return out


def _action_url(view: str, container: str, **query: str) -> str:
    return reverse("project-containers:" + view, args=[container]) + "?" + urlencode(query)


def _table(container: str, prefix: str, rows: list[swift.Entry],
           public: bool) -> tables.Table:
    columns = [
        tables.Column("label", "Name",
                      link=lambda e: browse_url(container, e.name) if e.folder else None),
        tables.Column("bytes", "Size",
                      display=lambda e: "Folder" if e.folder else fmt.size(e.bytes)),
        tables.Column("last_modified", "Last Modified",
                      display=lambda e: "" if e.folder else fmt.when(e.last_modified)),
        tables.Column("content_type", "Content Type")]
    if public:
        columns.append(tables.Column("public_url", "Public URL",
                                     link=lambda e: e.public_url or None))
    return tables.Table(
        name="objects", title="Objects", columns=columns, rows=rows, row_id=lambda e: e.name,
        actions=[
            tables.Action("Download", lambda e: _action_url("download", container, name=e.name),
                          "get", allowed=lambda e: not e.folder),
            tables.Action("Delete", lambda e: _action_url("delete_object", container,
                                                          name=e.name),
                          allowed=lambda e: not e.folder, danger=True,
                          confirm="Delete this object?"),
            tables.Action("Delete Folder", lambda e: _action_url("delete_folder", container,
                                                                 prefix=e.name),
                          allowed=lambda e: e.folder, danger=True,
                          confirm="Delete this folder? It must be empty.")],
        table_actions=[
            tables.Action("Upload Object", _action_url("upload", container, prefix=prefix),
                          "get"),
            tables.Action("Create Folder", _action_url("create_folder", container,
                                                       prefix=prefix), "get")],
        empty="This folder is empty." if prefix else "This container is empty.")


def browse(request: Any, container: str) -> HttpResponse:
    conn = cloud.connection(request)
    prefix = request.GET.get("prefix", "")
    marker = request.GET.get("marker", "")
    meta = swift.container_meta(conn, container)
    found = swift.listing(conn, container, prefix, PAGE, marker)
    rows = [e for e in found if e.name != prefix]          # the folder's own marker
    if meta.public:
        for entry in rows:
            if not entry.folder:
                entry.public_url = swift.public_url(conn, container, entry.name)
    more = ""
    if len(found) == PAGE:
        more = browse_url(container, prefix) + ("&" if prefix else "?") + urlencode(
            {"marker": found[-1].name})
    return render(request, "project/containers/browse.html", {
        "title": "Container %s" % container, "container": meta, "prefix": prefix,
        "crumbs": crumbs(container, prefix), "more_url": more,
        "public_root": swift.public_url(conn, container) if meta.public else "",
        "table": _table(container, prefix, rows, meta.public).context()})


def _post_only(request: Any) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponse(status=405)


def _name(request: Any, key: str = "name") -> str:
    value = request.GET.get(key, "")
    if not value:
        raise Http404("no object named")
    return str(value)


def upload(request: Any, container: str) -> HttpResponse:
    conn = cloud.connection(request)
    prefix = request.GET.get("prefix", "")
    limit = int(settings.STRATUS_MAX_UPLOAD_MB) * 1024 * 1024
    too_big = (request.method == "POST"
               and int(request.META.get("CONTENT_LENGTH") or 0) > limit + 1024 * 1024)
    if request.method != "POST":
        swift.container_meta(conn, container)          # 404 for an unknown container
    form = c_forms.UploadForm(None if too_big else (request.POST or None),
                              None if too_big else (request.FILES or None),
                              initial={"folder": prefix})
    if too_big:
        messages.error(request, "The file is larger than the dashboard's upload limit of "
                                "%d MiB." % settings.STRATUS_MAX_UPLOAD_MB)
    done: dict[str, str] = {}

    def apply(data: dict[str, Any]) -> str:
        upload = data["object_file"]
        upload.seek(0)
        swift.upload(conn, container, data["full_name"], upload, upload.size,
                     upload.content_type or "")
        done["name"] = data["full_name"]
        return "Object %s uploaded." % data["full_name"]

    return ui_forms.form_page(
        request, form, apply, lambda: browse_url(container, parent(done["name"])),
        "Upload Object to %s" % container, "Upload", extra={"upload": True},
        cancel_url=browse_url(container, prefix))


def create_folder(request: Any, container: str) -> HttpResponse:
    conn = cloud.connection(request)
    try:
        prefix = c_forms.clean_folder(request.GET.get("prefix", ""))
    except c_forms.forms.ValidationError:
        raise Http404("no such folder") from None
    if request.method != "POST":
        swift.container_meta(conn, container)

    def apply(data: dict[str, Any]) -> str:
        swift.create_folder(conn, container, prefix + data["name"] + "/")
        return "Folder %s created." % (prefix + data["name"])

    back = browse_url(container, prefix)
    return ui_forms.form_page(request, c_forms.FolderForm(request.POST or None,
                                                          prefix_path=prefix),
                              apply, back, "Create Folder in %s/%s" % (container, prefix),
                              "Create Folder")


def delete_object(request: Any, container: str) -> HttpResponse:
    name = _name(request)

    def apply() -> str:
        swift.delete_object(cloud.connection(request), container, name)
        return "Object %s deleted." % name

    return _post_only(request) or ui_forms.act(request, apply,
                                               browse_url(container, parent(name)))


def delete_folder(request: Any, container: str) -> HttpResponse:
    folder = _name(request, "prefix")
    if not folder.endswith("/"):
        raise Http404("not a folder")

    def apply() -> str:
        conn = cloud.connection(request)
        inside = swift.listing(conn, container, folder, 2, delimiter="")
        if any(e.name != folder for e in inside):
            raise swift.NotEmpty("Folder %s is not empty: delete what it holds first." % folder)
        if inside:
            swift.delete_object(conn, container, folder)
        return "Folder %s deleted." % folder

    return _post_only(request) or ui_forms.act(request, apply,
                                               browse_url(container, parent(folder)))


def download(request: Any, container: str) -> StreamingHttpResponse:
    name = _name(request)
    got = swift.download(cloud.connection(request), container, name)
    resp = StreamingHttpResponse(got.chunks, content_type=got.content_type)
    if got.length is not None:
        resp["Content-Length"] = got.length
    resp["Content-Disposition"] = content_disposition_header(True, name.rsplit("/", 1)[-1])
    return resp
