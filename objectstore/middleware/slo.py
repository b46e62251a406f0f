"""Static large objects (Swift's SLO), a filter of the proxy pipeline.

- ``PUT …?multipart-manifest=put`` with a JSON list of segments
  (``{"path": "/cont/obj", "etag": …, "size_bytes": …, "range": "a-b"}``; etag, size and
  range optional) HEADs every segment as the client, checks it, and stores the manifest
  (the list in its stored form) with ``X-Static-Large-Object: True`` and the sysmeta
  ``X-Object-Sysmeta-Slo-Etag``/``-Size``. Problems answer ``400`` with ``Errors:`` lines.
- ``GET``/``HEAD`` of a manifest answer the concatenated segments (nested SLOs up to
  :data:`segments.MAX_NESTING_DEPTH`), ETag ``"<md5 of the segment ETags>"``, ranges.
- ``?multipart-manifest=get`` answers the stored manifest (``&format=raw``: the PUT form).
- ``DELETE …?multipart-manifest=delete`` deletes the segments, then the manifest, and
  answers like a bulk delete.
"""
from __future__ import annotations

import dataclasses
import email.utils
import json
import mimetypes
from typing import Any, Callable

import webob

from objectstore.common import ranges
from objectstore.common.registry import register_swift_info
from objectstore.common.utils import Timestamp, normalize_etag
from objectstore.middleware import segments
from objectstore.middleware.segments import ObjectPath, Segment, SegmentError

SOURCE = "SLO"
SYSMETA_ETAG = "X-Object-Sysmeta-Slo-Etag"
SYSMETA_SIZE = "X-Object-Sysmeta-Slo-Size"
LISTING_TYPE = "X-Object-Sysmeta-Container-Update-Override-Content-Type"
SYSMETA_PREFIX = "x-object-sysmeta-slo-"
_PUT_KEYS = {"path", "etag", "size_bytes", "range"}
#: Request headers not passed on to the PUT of the manifest itself.
_NOT_FORWARDED = {"content-length", "etag", "transfer-encoding", "host", "expect"}


@dataclasses.dataclass
class SloConfig:
    max_manifest_segments: int = 1000
    max_manifest_size: int = 8 * 1024 * 1024
    min_segment_size: int = 1
    yield_frequency: int = 10


def is_slo(resp: webob.Response) -> bool:
    return resp.headers.get("X-Static-Large-Object", "").lower() in ("true", "1", "yes", "on")


def _text(status: int, body: str) -> webob.Response:
    return webob.Response(status=status, body=body.encode("utf-8"), content_type="text/plain")


def entry_range(entry: dict[str, Any]) -> tuple[int, int]:
    """(offset, length) of a stored manifest entry's part of its segment."""
    size = int(entry["bytes"])
    if not entry.get("range"):
        return 0, size
    found = ranges.parse_range("bytes=" + entry["range"], size) or [(0, 0)]
    start, stop = found[0]
    return start, stop - start


def entry_etag_part(entry: dict[str, Any]) -> str:
    """What a manifest entry adds to the SLO ETag (ranges count, as in Swift)."""
    if entry.get("range"):
        return "%s:%s;" % (entry["hash"], entry["range"])
    return str(entry["hash"])


def manifest_totals(entries: list[dict[str, Any]]) -> tuple[int, str]:
    """(size, etag) of the large object a stored manifest describes."""
    size = sum(entry_range(entry)[1] for entry in entries)
    return size, segments.etag_of_etags(entry_etag_part(entry) for entry in entries)


def to_raw(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored manifest in the form a PUT takes (``format=raw``)."""
    raw = []
    for entry in entries:
        item = {"path": entry["name"], "etag": entry["hash"], "size_bytes": entry["bytes"]}
        if entry.get("range"):
            item["range"] = entry["range"]
        raw.append(item)
    return raw


def _iso_time(resp: webob.Response) -> str:
    """When a segment was written, as container listings show it."""
    try:
        return Timestamp(resp.headers["X-Timestamp"]).isoformat
    except (KeyError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(resp.headers.get("Last-Modified", ""))
        return Timestamp(when.timestamp()).isoformat
    except (TypeError, ValueError):
        return Timestamp(0).isoformat


class StaticLargeObject:
    """The SLO filter: ``app`` is the rest of the pipeline below it."""

    def __init__(self, app: Any, conf: SloConfig) -> None:
        self.app = app
        self.conf = conf

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = segments.object_path(environ)
        if path is None:
            return self.app(environ, start_response)
        req = webob.Request(environ)
        handler = self._handler(req)
        if handler is None:
            return self.app(environ, start_response)
        return handler(req, path)(environ, start_response)

    def _handler(self, req: webob.Request
                 ) -> Callable[[webob.Request, ObjectPath], Any] | None:
        mode = req.GET.get("multipart-manifest")
        if req.method == "PUT":
            if mode == "put":
                return self.put_manifest
            if "X-Static-Large-Object" in req.headers:
                return lambda _req, _path: _text(
                    400, "X-Static-Large-Object is a reserved header. To create a static "
                         "large object add query param multipart-manifest=put.")
        elif req.method in ("GET", "HEAD"):
            return self.get_manifest if mode == "get" else self.get_large_object
        elif req.method == "DELETE" and mode == "delete":
            return self.delete_large_object
        return None

    # -- PUT ------------------------------------------------------------------

    def _read_put_body(self, req: webob.Request) -> list[dict[str, Any]] | webob.Response:
        """The parsed and shape-checked manifest of a PUT, or the error answer."""
        limit = self.conf.max_manifest_size
        if req.content_length is not None and req.content_length > limit:
            return _text(413, "Manifest File > %d bytes" % limit)
        body = req.body_file.read(limit + 1)
        if len(body) > limit:
            return _text(413, "Manifest File > %d bytes" % limit)
        try:
            parsed = json.loads(body)
        except ValueError:
            return _text(400, "Manifest must be valid JSON.\n")
        if not isinstance(parsed, list) or not parsed:
            return _text(400, "Manifest must be a list of at least one segment.\n")
        if len(parsed) > self.conf.max_manifest_segments:
            return _text(413, "Number of segments must be <= %d"
                         % self.conf.max_manifest_segments)
        problems = [p for i, item in enumerate(parsed) for p in self._shape_errors(i, item)]
        if problems:
            return _text(400, "Errors:\n" + "\n".join(problems))
        return parsed

    @staticmethod
    def _shape_errors(index: int, item: Any) -> list[str]:
        """What is wrong with one entry of a PUT manifest, before any HEAD."""
        if not isinstance(item, dict) or not set(item) <= _PUT_KEYS:
            return ["Index %d: invalid segment entry" % index]
        path = item.get("path")
        if not isinstance(path, str) or "/" not in path.lstrip("/") \
                or not all(path.lstrip("/").split("/", 1)):
            return ["Index %d: path does not refer to an object. Path must be of the form "
                    "/container/object." % index]
        size = item.get("size_bytes")
        if size is not None and (isinstance(size, bool) or not str(size).isdigit()):
            return ["Index %d: invalid size_bytes" % index]
        if item.get("etag") is not None and not isinstance(item["etag"], str):
            return ["Index %d: invalid etag" % index]
        if item.get("range") is not None and (
                not isinstance(item["range"], str)
                or ranges.parse_range_specs("bytes=" + item["range"]) is None):
            return ["Index %d: invalid range" % index]
        return []

    def put_manifest(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        parsed = self._read_put_body(req)
        if isinstance(parsed, webob.Response):
            return parsed
        entries: list[dict[str, Any]] = []
        problems: list[str] = []
        for index, item in enumerate(parsed):
            last = index == len(parsed) - 1
            entry = self._check_segment(req, path, index, item, last, problems)
            if entry is not None:
                entries.append(entry)
        if problems:
            return _text(400, "Errors:\n" + "\n".join(problems))
        total, etag = manifest_totals(entries)
        wanted = normalize_etag(req.headers.get("ETag"))
        if wanted and wanted != etag:
            return _text(422, "Unprocessable Entity")
        return self._store_manifest(req, path, entries, total, etag)

    def _check_segment(self, req: webob.Request, path: ObjectPath, index: int,
                       item: dict[str, Any], last: bool, problems: list[str]
                       ) -> dict[str, Any] | None:
        """HEAD one segment as the client and turn it into a stored entry (or note a
        problem)."""
        name = "/" + item["path"].lstrip("/")
        if name == "/%s/%s" % (path.container, path.obj):
            problems.append("Index %d: manifest must not include itself as a segment" % index)
            return None
        head = segments.subrequest(req.environ, "HEAD", "/%s/%s%s" % (
            path.version, path.account, name), source=SOURCE).get_response(self)
        segments.close_iter(head.app_iter)
        if not 200 <= head.status_int < 300:
            problems.append("%s, %s" % (name, head.status))
            return None
        size = head.content_length or 0
        etag = normalize_etag(head.headers.get("ETag")) or ""
        if item.get("size_bytes") is not None and int(item["size_bytes"]) != size:
            problems.append("%s, Size Mismatch" % name)
        if item.get("etag") and normalize_etag(item["etag"]) != etag:
            problems.append("%s, Etag Mismatch" % name)
        entry: dict[str, Any] = {
            "name": name, "hash": etag, "bytes": size,
            "content_type": head.headers.get("Content-Type", "application/octet-stream"),
            "last_modified": _iso_time(head)}
        if is_slo(head):
            entry["sub_slo"] = True
        length = size
        if item.get("range"):
            found = ranges.parse_range("bytes=" + item["range"], size)
            if not found:
                problems.append("%s, Unsatisfiable Range" % name)
                return None
            if len(found) > 1:
                problems.append("%s, Multiple Ranges" % name)
                return None
            start, stop = found[0]
            length = stop - start
            if (start, stop) != (0, size):
                entry["range"] = "%d-%d" % (start, stop - 1)
        if length < self.conf.min_segment_size and not last:
            problems.append("%s, Too small; each segment must be at least %d byte%s." % (
                name, self.conf.min_segment_size, "" if self.conf.min_segment_size == 1 else "s"))
        return entry

    def _store_manifest(self, req: webob.Request, path: ObjectPath,
                        entries: list[dict[str, Any]], total: int, etag: str
                        ) -> webob.Response:
        headers = {name: value for name, value in req.headers.items()
                   if name.lower() not in _NOT_FORWARDED}
        # Listings show the object's whole size (the proxy reads it from the
        # content type's swift_bytes); the container's byte count keeps the
        # manifest's own size, so segments are not counted twice.
        ctype = (headers.get("Content-Type")
                 or mimetypes.guess_type(path[-1])[0] or "application/octet-stream")
        headers["Content-Type"] = ctype
        listed_type = "%s;swift_bytes=%d" % (ctype, total)
        headers.update({"X-Static-Large-Object": "True", SYSMETA_ETAG: etag,
                        SYSMETA_SIZE: str(total), LISTING_TYPE: listed_type})
        body = json.dumps(entries).encode("utf-8")
        sub = segments.subrequest(req.environ, "PUT", "/%s/%s/%s/%s" % path, headers=headers,
                                  source=SOURCE, body=body)
        resp = sub.get_response(self.app)
        if resp.status_int == 201:
            resp.headers["ETag"] = '"%s"' % etag
        return resp

    # -- GET/HEAD ---------------------------------------------------------------

    def get_manifest(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        """``?multipart-manifest=get``: the manifest itself (``format=raw``: PUT form)."""
        resp = req.get_response(self.app)
        if not is_slo(resp) or resp.status_int != 200:
            return resp
        if req.GET.get("format") != "raw":
            # the raw form keeps the object's own type: it is what a copy PUTs again
            resp.headers["Content-Type"] = "application/json; charset=utf-8"
        elif req.method == "GET":
            try:
                raw = to_raw(json.loads(resp.body))
            except (ValueError, KeyError, TypeError):
                return _text(500, "Unable to load SLO manifest")
            resp.body = json.dumps(raw).encode("utf-8")
            resp.headers["ETag"] = segments.etag_of_etags([resp.body.decode("utf-8")])
        return resp

    def get_large_object(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        resp = req.get_response(self.app)
        meta = resp
        if not is_slo(resp):
            if not segments.maybe_hidden_manifest(req, resp):
                return resp
            meta = self._fetch(req, "/%s/%s/%s/%s" % path, "HEAD")
            if not is_slo(meta) or meta.status_int != 200:
                return resp
        body = None
        if resp.status_int == 200 and req.method == "GET" and resp is meta:
            body = resp.body
        else:
            segments.close_iter(resp.app_iter)
        headers = segments.manifest_headers(meta, (SYSMETA_PREFIX,))
        known_size, known_etag = meta.headers.get(SYSMETA_SIZE), meta.headers.get(SYSMETA_ETAG)
        if req.method == "HEAD" and known_size and known_etag and known_size.isdigit():
            return segments.large_object_response(
                req, headers, int(known_size), known_etag, lambda a, b: iter(()))
        if body is None:
            got = self._fetch(req, "/%s/%s/%s/%s" % path, "GET")
            if not is_slo(got) or got.status_int != 200:
                return got
            body = got.body
        try:
            entries = json.loads(body)
            total, etag = manifest_totals(entries)
            segs = self._segments(path.version, path.account, entries)
        except (ValueError, KeyError, TypeError):
            return _text(409, "Unable to load SLO manifest")
        reader = segments.SegmentReader(req.environ, self.app, SOURCE, self._expander(req, path))
        return segments.large_object_response(
            req, headers, total, known_etag or etag,
            lambda start, stop: reader.read(segs, start, stop))

    def _fetch(self, req: webob.Request, obj_path: str, method: str) -> webob.Response:
        """The manifest object itself, without the client's ranges and conditions."""
        sub = segments.subrequest(req.environ, method, obj_path, "multipart-manifest=get",
                                  source=SOURCE)
        return sub.get_response(self.app)

    @staticmethod
    def _segments(version: str, account: str, entries: list[dict[str, Any]]) -> list[Segment]:
        result = []
        for entry in entries:
            offset, length = entry_range(entry)
            result.append(Segment("/%s/%s%s" % (version, account, entry["name"]),
                                  entry.get("hash"), offset, length,
                                  bool(entry.get("sub_slo"))))
        return result

    def _expander(self, req: webob.Request, path: ObjectPath
                  ) -> Callable[[Segment, int], list[Segment]]:
        def expand(seg: Segment, depth: int) -> list[Segment]:
            got = self._fetch(req, seg.path, "GET")
            if got.status_int != 200 or not is_slo(got):
                raise SegmentError("%s: %s, not a manifest" % (seg.path, got.status))
            stored = got.headers.get(SYSMETA_ETAG)
            if seg.etag and stored and normalize_etag(seg.etag) != stored:
                raise SegmentError("%s: sub-manifest changed" % seg.path)
            try:
                return self._segments(path.version, path.account, json.loads(got.body))
            except (ValueError, KeyError, TypeError):
                raise SegmentError("%s: bad sub-manifest" % seg.path)
        return expand

    # -- DELETE -----------------------------------------------------------------

    def _delete_list(self, req: webob.Request, version: str, account: str, obj_path: str,
                     depth: int) -> list[str]:
        """What ``multipart-manifest=delete`` of ``obj_path`` deletes: the segments
        (nested manifests expanded), then the manifest. Raises SegmentError."""
        got = self._fetch(req, obj_path, "GET")
        if got.status_int == 404 or (200 <= got.status_int < 300 and not is_slo(got)):
            segments.close_iter(got.app_iter)
            return [obj_path]
        if got.status_int != 200:
            raise SegmentError(got.status)
        try:
            entries = json.loads(got.body)
            names = [(e["name"], bool(e.get("sub_slo"))) for e in entries]
        except (ValueError, KeyError, TypeError):
            raise SegmentError("409 Conflict")
        result: list[str] = []
        for name, nested in names:
            seg_path = "/%s/%s%s" % (version, account, name)
            if nested and depth < segments.MAX_NESTING_DEPTH:
                result.extend(self._delete_list(req, version, account, seg_path, depth + 1))
            else:
                result.append(seg_path)
        result.append(obj_path)
        return result

    def delete_large_object(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        obj_path = "/%s/%s/%s/%s" % path
        deleted = not_found = 0
        errors: list[list[str]] = []
        try:
            targets = list(dict.fromkeys(
                self._delete_list(req, path.version, path.account, obj_path, 0)))
        except SegmentError as exc:
            targets = []
            errors.append([obj_path, str(exc)])
        for target in targets:
            sub = segments.subrequest(req.environ, "DELETE", target, source=SOURCE)
            resp = sub.get_response(self.app)
            segments.close_iter(resp.app_iter)
            if 200 <= resp.status_int < 300:
                deleted += 1
            elif resp.status_int == 404:
                not_found += 1
            else:
                errors.append(["/" + target.split("/", 3)[-1], resp.status])
        return bulk_delete_response(req, deleted, not_found, errors)


def bulk_delete_response(req: webob.Request, deleted: int, not_found: int,
                         errors: list[list[str]]) -> webob.Response:
    """The answer of a bulk-style delete: JSON when asked for, else text lines."""
    report: dict[str, Any] = {
        "Number Deleted": deleted, "Number Not Found": not_found, "Response Body": "",
        "Response Status": "400 Bad Request" if errors else "200 OK"}
    if "application/json" in req.headers.get("Accept", ""):
        report["Errors"] = errors
        return webob.Response(status=200, body=json.dumps(report).encode("utf-8"),
                              content_type="application/json")
    lines = ["%s: %s" % (key, report[key]) for key in sorted(report)]
    lines.append("Errors:")
    lines.extend("%s, %s" % (name, status) for name, status in errors)
    return _text(200, "\n".join(lines) + "\n")


def _int_option(conf: dict[str, Any], name: str, default: int) -> int:
    return int(conf.get(name, default))


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """Paste: options ``max_manifest_segments``, ``max_manifest_size``,
    ``min_segment_size``, ``yield_frequency`` (as Swift's)."""
    defaults = SloConfig()
    conf = SloConfig(**{field.name: _int_option(local_conf, field.name,
                                                getattr(defaults, field.name))
                        for field in dataclasses.fields(SloConfig)})
    register_swift_info("slo", **dataclasses.asdict(conf))
    return lambda app: StaticLargeObject(app, conf)
