"""Bulk operations: many deletes, or a whole archive of uploads, in one request.

``POST`` or ``DELETE /v1/<account>?bulk-delete`` with a body of newline separated
(percent-quoted) ``/container/object`` or ``/container`` paths deletes each of them
with its own ``DELETE`` subrequest (``swift.source = BD``) through the rest of the
pipeline, so authorization and quotas apply to each one as to a client's own
request. Objects go first and containers after them, so a container listed with its
objects ends up empty and is removed.

``PUT /v1/<account>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz|tar.bz2``
uploads every file of the archive (``swift.source = EA``); without a container in the
path, the first directory of each member names its container (created when missing).

Both answer 200 with a summary in the body, as text (``Key: value`` lines, then one
``name, status`` line per error), JSON (``Accept: application/json``) or XML:
``Number Deleted`` / ``Number Not Found`` (or ``Number Files Created``),
``Response Status`` (``200 OK``/``201 Created``, ``400 Bad Request`` when something
failed, ``413`` for too many paths), ``Response Body`` and ``Errors``.

Options: ``max_deletes_per_request`` (10000), ``max_failed_deletes`` (1000),
``max_containers_per_extraction`` (10000), ``max_failed_extractions`` (1000).
"""
from __future__ import annotations

import json
import tarfile
from typing import Any, Callable, Iterator, Literal
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

import webob
import webob.exc

from objectstore.common.registry import register_swift_info
from objectstore.middleware.keystoneauth import request_parts
from objectstore.proxy import info

FORMATS = ["text/plain", "application/json", "application/xml", "text/xml"]
ARCHIVE_MODES: dict[str, Literal["r|", "r|gz", "r|bz2"]] = {
    "tar": "r|", "tar.gz": "r|gz", "tar.bz2": "r|bz2"}
#: One path per line can hardly be longer than this (account/container/object limits).
MAX_LINE = 8192


def status_of(code: int) -> str:
    return "%d %s" % (code, webob.exc.status_map[code].title)


class Summary:
    """What a bulk request did, rendered in the client's format."""

    def __init__(self, counters: list[str], success: int) -> None:
        self.counts = dict.fromkeys(counters, 0)
        self.success = success
        self.errors: list[list[str]] = []
        self.status: str | None = None
        self.body = ""

    def fail(self, name: str, status: str) -> None:
        self.errors.append([quote(name), status])

    def finish(self, nothing_body: str) -> None:
        """Set the overall status unless an error already did."""
        if self.status is not None:
            return
        if self.errors:
            self.status = status_of(400)
        elif not any(self.counts.values()):
            self.status, self.body = status_of(400), nothing_body
        else:
            self.status = status_of(self.success)

    def fields(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.counts)
        data["Response Status"] = self.status
        data["Response Body"] = self.body
        data["Errors"] = self.errors
        return data

    def render(self, content_type: str) -> bytes:
        data = self.fields()
        if content_type == "application/json":
            return json.dumps(data).encode()
        errors = data.pop("Errors")
        if content_type.endswith("/xml"):
            items = "".join("<%s>%s</%s>" % (_tag(k), escape(str(v)), _tag(k))
                            for k, v in sorted(data.items()))
            errs = "".join("<object><name>%s</name><status>%s</status></object>"
                           % (escape(n), escape(s)) for n, s in errors)
            return ('<?xml version="1.0" encoding="UTF-8"?>\n<delete>%s<errors>%s</errors>'
                    "</delete>\n" % (items, errs)).encode()
        lines = ["%s: %s\n" % (k, v) for k, v in sorted(data.items())]
        lines.append("Errors:\n")
        lines.extend("%s, %s\n" % (n, s) for n, s in errors)
        return "".join(lines).encode()


def _tag(key: str) -> str:
    return key.lower().replace(" ", "_")


class Bulk:
    """The ``bulk`` filter (see the module docstring)."""

    def __init__(self, app: Any, conf: dict[str, Any]) -> None:
        self.app = app
        self.max_deletes = int(conf.get("max_deletes_per_request", 10000))
        self.max_failed_deletes = int(conf.get("max_failed_deletes", 1000))
        self.max_containers = int(conf.get("max_containers_per_extraction", 10000))
        self.max_failed_extractions = int(conf.get("max_failed_extractions", 1000))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = webob.Request(environ)
        if "bulk-delete" in req.GET and req.method in ("POST", "DELETE"):
            return self.answer(req, self.handle_delete)(environ, start_response)
        if "extract-archive" in req.GET and req.method == "PUT":
            return self.answer(req, self.handle_extract)(environ, start_response)
        return self.app(environ, start_response)

    def answer(self, req: webob.Request,
               handler: Callable[[webob.Request], Summary | webob.Response]
               ) -> webob.Response:
        """Run ``handler`` and render its summary in the client's format."""
        offers = req.accept.acceptable_offers(FORMATS) if "Accept" in req.headers \
            else [("text/plain", 1.0)]
        if not offers:
            return webob.exc.HTTPNotAcceptable()
        try:
            request_parts(req)
        except ValueError:
            return webob.exc.HTTPNotFound()
        result = handler(req)
        if isinstance(result, webob.Response):
            return result
        content_type = offers[0][0]
        return webob.Response(status=200, body=result.render(content_type),
                              content_type=content_type, charset=None)

    # --- bulk delete ---------------------------------------------------------------

    def read_paths(self, req: webob.Request, summary: Summary) -> list[str] | None:
        """The names in the body (None when there are too many: 413 in the summary)."""
        names: list[str] = []
        for raw in iter(lambda: req.body_file.readline(MAX_LINE), b""):
            line = unquote(raw.decode("utf-8", "surrogateescape").strip())
            if not line:
                continue
            if len(names) >= self.max_deletes:
                summary.status = status_of(413)
                summary.body = "Maximum Bulk Deletes: %d per request" % self.max_deletes
                return None
            names.append(line.lstrip("/"))
        return names

    def handle_delete(self, req: webob.Request) -> Summary | webob.Response:
        account, container, _obj = request_parts(req)
        if account is None or container is not None:
            return webob.exc.HTTPBadRequest(body="Bulk delete is a request to an account")
        summary = Summary(["Number Deleted", "Number Not Found"], 200)
        names = self.read_paths(req, summary)
        if names is None:
            return summary
        objects = [n for n in names if "/" in n.strip("/")]
        containers = [n for n in names if "/" not in n.strip("/")]
        for name in objects + containers:
            if len(summary.errors) >= self.max_failed_deletes:
                summary.status, summary.body = status_of(400), "Max delete failures exceeded"
                break
            self.delete_one(req, account, name, summary)
        summary.finish("Invalid bulk delete.")
        return summary

    def delete_one(self, req: webob.Request, account: str, name: str,
                   summary: Summary) -> None:
        if not name.strip("/"):
            summary.fail("/" + name, status_of(400))
            return
        container, _, obj = name.partition("/")
        path = "/v1/%s/%s" % (account, container)
        if obj.strip("/"):
            path += "/" + obj  # object names may end with a slash; container names not
        sub = info.make_subrequest(req.environ, "DELETE", path, swift_source="BD", query="")
        resp = sub.get_response(self.app)
        if resp.status_int // 100 == 2:
            summary.counts["Number Deleted"] += 1
        elif resp.status_int == 404:
            summary.counts["Number Not Found"] += 1
        else:
            summary.fail("/" + name, resp.status)

    # --- extract archive ------------------------------------------------------------

    def handle_extract(self, req: webob.Request) -> Summary | webob.Response:
        mode = ARCHIVE_MODES.get(req.GET.get("extract-archive", ""))
        if mode is None:
            return webob.exc.HTTPBadRequest(body="Unsupported archive format")
        account, container, prefix = request_parts(req)
        if account is None:
            return webob.exc.HTTPBadRequest(body="Extract archive needs an account")
        summary = Summary(["Number Files Created"], 201)
        created: set[str] = set()
        try:
            with tarfile.open(mode=mode, fileobj=req.body_file) as archive:
                for member, name in self._members(archive, container, prefix):
                    if len(summary.errors) >= self.max_failed_extractions:
                        summary.status = status_of(400)
                        summary.body = "Max extraction failures exceeded"
                        break
                    if not self.upload_one(req, account, archive, member, name, created,
                                           summary):
                        break
        except (tarfile.TarError, EOFError, OSError) as err:
            summary.status, summary.body = status_of(400), "Invalid Tar File: %s" % err
        summary.finish("Invalid Tar File: No Valid Files")
        return summary

    @staticmethod
    def _members(archive: tarfile.TarFile, container: str | None, prefix: str | None
                 ) -> Iterator[tuple[tarfile.TarInfo, str]]:
        """(member, ``container/object`` destination) of every regular file."""
        for member in archive:
            if not member.isreg():
                continue
            name = member.name
            while name.startswith(("./", "/")):
                name = name[2:] if name.startswith("./") else name[1:]
            if container is not None:
                name = "%s/%s%s" % (container, (prefix.rstrip("/") + "/") if prefix else "",
                                    name)
            yield member, name

    def upload_one(self, req: webob.Request, account: str, archive: tarfile.TarFile,
                   member: tarfile.TarInfo, name: str, created: set[str],
                   summary: Summary) -> bool:
        """Create the container when needed and PUT the file; False to stop."""
        container, _, obj = name.partition("/")
        if not container or not obj:
            summary.fail("/" + name, status_of(400))
            return True
        if container not in created:
            if len(created) >= self.max_containers:
                summary.status = status_of(400)
                summary.body = "More than %d containers to create from tar." % (
                    self.max_containers)
                return False
            status = self.ensure_container(req, account, container)
            if status is not None:
                summary.fail("/" + name, status)
                return status != status_of(401)
            created.add(container)
        sub = info.make_subrequest(req.environ, "PUT", "/v1/%s/%s" % (account, name),
                                   headers=_member_headers(req, member), swift_source="EA",
                                   query="")
        sub.body_file = archive.extractfile(member)
        sub.content_length = member.size
        resp = sub.get_response(self.app)
        if resp.status_int // 100 == 2:
            summary.counts["Number Files Created"] += 1
        else:
            summary.fail("/" + name, resp.status)
        return True

    def ensure_container(self, req: webob.Request, account: str, container: str
                         ) -> str | None:
        """None when the container exists or was created, else the failing status."""
        path = "/v1/%s/%s" % (account, container)
        head = info.make_subrequest(req.environ, "HEAD", path, swift_source="EA", query="")
        resp = head.get_response(self.app)
        if resp.status_int // 100 == 2:
            return None
        if resp.status_int == 404:
            put = info.make_subrequest(req.environ, "PUT", path, swift_source="EA", query="")
            resp = put.get_response(self.app)
            if resp.status_int // 100 == 2:
                return None
        return resp.status


def _member_headers(req: webob.Request, member: tarfile.TarInfo) -> dict[str, str]:
    """Headers of one file's PUT: the request's expiry, and metadata from pax xattrs."""
    headers = {k: v for k, v in req.headers.items()
               if k.lower() in ("x-delete-at", "x-delete-after")}
    for key, value in (member.pax_headers or {}).items():
        if key.startswith("SCHILY.xattr.user.meta."):
            headers["X-Object-Meta-" + key[len("SCHILY.xattr.user.meta."):]] = value
        elif key == "SCHILY.xattr.user.mime_type":
            headers["Content-Type"] = value
    return headers


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Bulk]:
    """Paste entry point; registers ``bulk_delete`` and ``bulk_upload`` in /info."""
    conf = dict(global_conf)
    conf.update(local_conf)
    register_swift_info("bulk_delete",
                        max_deletes_per_request=int(conf.get("max_deletes_per_request",
                                                             10000)),
                        max_failed_deletes=int(conf.get("max_failed_deletes", 1000)))
    register_swift_info("bulk_upload",
                        max_containers_per_extraction=int(
                            conf.get("max_containers_per_extraction", 10000)),
                        max_failed_extractions=int(conf.get("max_failed_extractions", 1000)))
    return lambda app: Bulk(app, conf)
