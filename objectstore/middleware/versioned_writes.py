"""Versioned writes (Swift's ``versioned_writes``), the last filter before the proxy.

A container whose ``X-Versions-Location`` (stack mode) or ``X-History-Location``
(history mode) names an archive container keeps old versions of its objects there, as
``<archive>/<3 hex digits: length of the name><name>/<timestamp of the version>``:

- PUT over an existing object first copies the current version to the archive.
- DELETE in stack mode restores the newest archived version (and removes it from the
  archive); with none, the object is simply deleted.
- DELETE in history mode copies the current version to the archive, writes a zero-byte
  delete marker (``application/x-deleted;swift_versions_deleted=1``) and deletes.

Container PUT/POST may set one of the two headers (both non-empty: 400); an empty value
or ``X-Remove-Versions-Location``/``X-Remove-History-Location`` turns versioning off.
The container server stores both headers as metadata; ``get_container_info`` reports
them as ``versions`` and ``history``. The client is authorized on the versioned
container before anything is archived; the archive subrequests are pre-authorized.
"""
from __future__ import annotations

import email.utils
import json
from typing import Any, Callable
from urllib.parse import quote, unquote

import webob

from objectstore.common import constraints
from objectstore.common.registry import register_swift_info
from objectstore.common.utils import Timestamp, normalize_etag, split_path
from objectstore.middleware import segments
from objectstore.middleware.segments import ObjectPath
from objectstore.proxy import info

SOURCE = "VW"
VERSIONS = "X-Versions-Location"
HISTORY = "X-History-Location"
DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"
#: Headers of an object that travel with it into (and back from) the archive.
_KEPT = {"content-type", "content-encoding", "content-disposition",
         "x-static-large-object", "x-object-manifest"}


def _text(status: int, body: str) -> webob.Response:
    return webob.Response(status=status, body=body.encode("utf-8"), content_type="text/plain")


def version_prefix(obj: str) -> str:
    """``<3 hex digits of the UTF-8 length><name>/``: where an object's versions live."""
    return "%03x%s/" % (len(obj.encode("utf-8", "surrogateescape")), obj)


def version_timestamp(resp: webob.Response) -> Timestamp:
    """When the version in ``resp`` was written (X-Timestamp, else Last-Modified)."""
    try:
        return Timestamp(resp.headers["X-Timestamp"])
    except (KeyError, ValueError):
        pass
    try:
        return Timestamp(email.utils.parsedate_to_datetime(
            resp.headers.get("Last-Modified", "")).timestamp())
    except (TypeError, ValueError):
        return Timestamp.now()


def _is_marker(entry: dict[str, Any]) -> bool:
    return str(entry.get("content_type", "")).startswith("application/x-deleted")


def _failure(resp: webob.Response) -> webob.Response:
    """What the client gets when a version could not be archived or restored."""
    if resp.status_int in (401, 403, 404):
        return _text(412, "Precondition Failed: cannot write to the versions container")
    return _text(503, "Service Unavailable: versioning failed")


class VersionedWrites:
    """The versioned_writes filter: ``app`` is the proxy."""

    def __init__(self, app: Any, allow: bool = True) -> None:
        self.app = app
        self.allow = allow

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            version, account, container, obj = split_path(
                info.from_wsgi_str(environ.get("PATH_INFO", "/")), 1, 4, rest_with_last=True)
        except ValueError:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        req = webob.Request(environ)
        resp: Any = None
        if account and container and not obj and method in ("PUT", "POST"):
            resp = self.container_request(req)
        elif obj and method in ("PUT", "DELETE") and self.allow:
            assert version and account and container
            resp = self.object_request(req, ObjectPath(version, account, container, obj))
        return (resp or self.app)(environ, start_response)

    # -- containers ---------------------------------------------------------------

    def container_request(self, req: webob.Request) -> webob.Response | None:
        """Check and normalize the versioning headers of a container PUT/POST."""
        stack, history = req.headers.get(VERSIONS), req.headers.get(HISTORY)
        remove = any(name in req.headers for name in (
            "X-Remove-Versions-Location", "X-Remove-History-Location"))
        if stack is None and history is None and not remove:
            return None
        if not self.allow:
            return _text(412, "Versioned Writes is disabled")
        if stack and history:
            return _text(400, "Only one of %s or %s may be specified" % (VERSIONS, HISTORY))
        for value in (stack, history):
            problem = value and constraints.check_name(unquote(value), 256, "Container")
            if problem:
                return _text(400, problem)
        for name in ("X-Remove-Versions-Location", "X-Remove-History-Location"):
            req.headers.pop(name, None)
        if remove:
            stack = history = ""
        req.headers[VERSIONS] = stack or ""
        req.headers[HISTORY] = "" if stack else (history or "")
        return None

    # -- objects ------------------------------------------------------------------

    def object_request(self, req: webob.Request, path: ObjectPath) -> Any:
        cinfo = info.get_container_info(req.environ, self.app, SOURCE)
        if not 200 <= cinfo["status"] < 300:
            return None
        location = cinfo.get("versions") or cinfo.get("history")
        if not location:
            return None
        denied = self._authorize(req, cinfo)
        if denied is not None:
            return denied
        archive = unquote(location).strip().lstrip("/")
        if req.method == "PUT":
            return self.archive_current(req, path, archive)
        if cinfo.get("versions"):
            return self.delete_stack(req, path, archive)
        return self.delete_history(req, path, archive)

    @staticmethod
    def _authorize(req: webob.Request, cinfo: dict[str, Any]) -> Any:
        """The client must be allowed to write the container before a version moves."""
        authorize = req.environ.get("swift.authorize")
        if authorize is None or req.environ.get("swift.authorize_override"):
            return None
        req.acl = cinfo.get("write_acl")
        return authorize(req)

    def _path(self, path: ObjectPath, container: str, obj: str) -> str:
        return "/%s/%s/%s/%s" % (path.version, path.account, container, obj)

    def _get(self, req: webob.Request, obj_path: str) -> webob.Response:
        return segments.subrequest(req.environ, "GET", obj_path, "multipart-manifest=get",
                                   source=SOURCE, pre_authed=True).get_response(self.app)

    def _copy(self, req: webob.Request, source: webob.Response, dest: str,
              extra: dict[str, str] | None = None) -> webob.Response:
        """PUT the object in ``source`` (a GET answer) to ``dest``, metadata and all."""
        headers = {name: value for name, value in source.headers.items()
                   if name.lower() in _KEPT
                   or name.lower().startswith(("x-object-meta-", "x-object-sysmeta-"))}
        etag = normalize_etag(source.headers.get("ETag"))
        if etag and source.status_int == 200:
            headers["ETag"] = etag
        headers.update(extra or {})
        sub = segments.subrequest(req.environ, "PUT", dest, headers=headers, source=SOURCE,
                                  pre_authed=True)
        segments.set_body_stream(sub, source.app_iter, source.content_length)
        try:
            resp = sub.get_response(self.app)
        finally:
            segments.close_iter(source.app_iter)
        segments.close_iter(resp.app_iter)
        return resp

    def _push_version(self, req: webob.Request, path: ObjectPath, archive: str
                      ) -> webob.Response | None:
        """Copy the current version (if any) into the archive; an error answer or None."""
        current = self._get(req, self._path(path, path.container, path.obj))
        if current.status_int == 404:
            segments.close_iter(current.app_iter)
            return None
        if current.status_int != 200:
            segments.close_iter(current.app_iter)
            return _failure(current)
        name = version_prefix(path.obj) + version_timestamp(current).internal
        put = self._copy(req, current, self._path(path, archive, name))
        return None if 200 <= put.status_int < 300 else _failure(put)

    def archive_current(self, req: webob.Request, path: ObjectPath, archive: str) -> Any:
        """PUT: archive the current version, then let the PUT through."""
        return self._push_version(req, path, archive)

    def delete_history(self, req: webob.Request, path: ObjectPath, archive: str) -> Any:
        """History mode DELETE: archive, write a delete marker, then delete."""
        failed = self._push_version(req, path, archive)
        if failed is not None:
            return failed
        marker = self._path(path, archive, version_prefix(path.obj) + Timestamp.now().internal)
        put = segments.subrequest(req.environ, "PUT", marker, headers={
            "Content-Type": DELETE_MARKER}, source=SOURCE, pre_authed=True,
            body=b"").get_response(self.app)
        segments.close_iter(put.app_iter)
        if not 200 <= put.status_int < 300:
            return _failure(put)
        return None

    def _newest_versions(self, req: webob.Request, path: ObjectPath, archive: str
                         ) -> list[dict[str, Any]] | webob.Response:
        """The two newest entries of the object's versions, newest first."""
        query = "format=json&reverse=on&limit=2&prefix=%s" % quote(version_prefix(path.obj))
        listing = segments.subrequest(
            req.environ, "GET", "/%s/%s/%s" % (path.version, path.account, archive), query,
            source=SOURCE, pre_authed=True).get_response(self.app)
        if listing.status_int in (204, 404):
            return []
        if listing.status_int != 200:
            return _failure(listing)
        return list(json.loads(listing.body))[:2]

    def delete_stack(self, req: webob.Request, path: ObjectPath, archive: str) -> Any:
        """Stack mode DELETE: the newest archived version becomes current again."""
        entries = self._newest_versions(req, path, archive)
        if isinstance(entries, webob.Response):
            return entries
        if not entries:
            return None
        current_path = self._path(path, path.container, path.obj)
        if _is_marker(entries[0]):
            # the object was deleted in history mode: a current object (written since)
            # is deleted as usual; otherwise the version before the marker comes back
            head = segments.subrequest(req.environ, "HEAD", current_path, source=SOURCE,
                                       pre_authed=True).get_response(self.app)
            if head.status_int != 404:
                return None
            restored = self._restore(req, path, archive, entries[1:2], current_path)
            self._delete(req, self._path(path, archive, entries[0]["name"]))
            return restored or webob.Response(status=404)
        return self._restore(req, path, archive, entries[:1], current_path)

    def _restore(self, req: webob.Request, path: ObjectPath, archive: str,
                 entries: list[dict[str, Any]], current_path: str) -> webob.Response | None:
        """Copy the archived version in ``entries`` over the current object and drop it
        from the archive; None when there is nothing to restore."""
        if not entries or _is_marker(entries[0]):
            return None
        version_path = self._path(path, archive, entries[0]["name"])
        source = self._get(req, version_path)
        if source.status_int != 200:
            segments.close_iter(source.app_iter)
            return None if source.status_int == 404 else _failure(source)
        put = self._copy(req, source, current_path)
        if not 200 <= put.status_int < 300:
            return _failure(put)
        self._delete(req, version_path)
        return webob.Response(status=204)

    def _delete(self, req: webob.Request, obj_path: str) -> None:
        resp = segments.subrequest(req.environ, "DELETE", obj_path, source=SOURCE,
                                   pre_authed=True).get_response(self.app)
        segments.close_iter(resp.app_iter)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """Paste: ``allow_versioned_writes`` (default true) turns the feature on."""
    allow = str(local_conf.get("allow_versioned_writes", "true")).lower() in (
        "true", "1", "yes", "on")
    if allow:
        register_swift_info("versioned_writes", allowed_flags=[VERSIONS.lower(),
                                                               HISTORY.lower()])
    return lambda app: VersionedWrites(app, allow)
