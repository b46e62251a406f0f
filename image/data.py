"""Image data: upload, download (with ranges), stage and import (glance-direct).

Every write streams through :meth:`DataService._ingest` (limits, md5/sha512,
format check, virtual size) into a temporary file of the store; the record goes
active before the data is committed; any failure removes the data and puts the
image back to ``queued``."""
from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import time
from typing import Any, Callable, Iterable, Iterator

from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exc
from image import exception
from image import formats
from image import import_tasks
from image import service as image_service
from image.store import base as store_base
from image.store import filesystem

LOG = logging.getLogger(__name__)

HASH_ALGO = "sha512"
IMPORT_METHODS = ("glance-direct",)
#: How often a moving upload/import touches its image: the registry puts images
#: left in saving/importing for 5 minutes back (their API process died).
HEARTBEAT_SECONDS = 30
#: Chunks at least this big are hashed on helper threads (see _Digests).
_PARALLEL_MIN = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.I)
_DATA_KEYS = ("size", "checksum", "os_hash_algo", "os_hash_value", "virtual_size",
              "location")


RangeNotSatisfiable = exception.RangeNotSatisfiable


def parse_range(header: str, size: int) -> tuple[int, int]:
    """Glance's reading of a ``Range`` header: one range only.

    :returns: ``(first, last)`` byte positions, inclusive.
    :raises: RangeNotSatisfiable (416) when malformed, multiple or outside the data.
    """
    found = _RANGE.match(header)
    if found is None or not (found.group(1) or found.group(2)):
        raise RangeNotSatisfiable(size, "malformed Range header %r" % header)
    first_s, last_s = found.groups()
    if first_s:
        first = int(first_s)
        last = int(last_s) if last_s else size - 1
        if last < first:
            raise RangeNotSatisfiable(size, "malformed Range header %r" % header)
        if first >= size:
            raise RangeNotSatisfiable(size, "start position must be in range [0, %d]"
                                      % (size - 1))
        return first, min(last, size - 1)
    suffix = int(last_s)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable(size, "empty suffix range")
    return max(0, size - suffix), size - 1


class _Digests:
    """md5 and sha512 of a stream. Big chunks are hashed on two helper threads
    (hashlib releases the GIL), in parallel with each other and with the caller
    reading the next chunk and writing this one."""

    def __init__(self, pool: concurrent.futures.Executor) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.new(HASH_ALGO)
        self._pool = pool
        self._pending: list[concurrent.futures.Future[None]] = []

    def update(self, chunk: bytes) -> None:
        self.wait()  # each hash must see the chunks in order
        if len(chunk) >= _PARALLEL_MIN:
            self._pending = [self._pool.submit(self.md5.update, chunk),
                             self._pool.submit(self.sha.update, chunk)]
        else:
            self.md5.update(chunk)
            self.sha.update(chunk)

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()


class _Meter:
    """Iterates a chunk stream: counts and limits it, hashes it, keeps its header
    and tail for the format inspectors and calls ``heartbeat(size so far)`` now and then."""

    def __init__(self, chunks: Iterable[bytes], cap: int, remaining: int | None,
                 expected: int | None, digests: _Digests | None,
                 on_header: Callable[[bytes], None] | None,
                 heartbeat: Callable[[int], None]) -> None:
        self._chunks, self._expected = chunks, expected
        self._cap, self._remaining = cap, remaining
        self.digests, self._on_header, self._heartbeat = digests, on_header, heartbeat
        self.size = 0
        self.header = bytearray()
        self.tail = b""

    def __iter__(self) -> Iterator[bytes]:
        limit = self._cap if self._remaining is None else min(self._cap, self._remaining)
        header, want = self.header, formats.HEADER_SIZE
        digests, tail_size = self.digests, formats.TAIL_SIZE
        next_beat = time.monotonic() + HEARTBEAT_SECONDS
        for chunk in self._chunks:
            if not chunk:
                continue
            if time.monotonic() >= next_beat:
                self._heartbeat(self.size)
                next_beat = time.monotonic() + HEARTBEAT_SECONDS
            self.size += len(chunk)
            if self.size > limit:
                raise (exception.ImageSizeLimitExceeded() if self.size > self._cap else
                       exception.QuotaExceeded(resource="image_size_total", detail="%d bytes "
                                               "remain" % (self._remaining or 0)))
            if len(header) < want:
                header += chunk[:want - len(header)]
                if len(header) >= want and self._on_header is not None:
                    self._on_header(bytes(header))
            self.tail = (chunk[-tail_size:] if len(chunk) >= tail_size
                         else (self.tail + chunk)[-tail_size:])
            if digests is not None:
                digests.update(chunk)
            yield chunk
        if digests is not None:
            digests.wait()
        if self._expected is not None and self.size != self._expected:
            raise common_exc.Invalid(
                "The request body was truncated: received %d of the %d bytes of "
                "Content-Length." % (self.size, self._expected))


class DataService:
    """Moves image bytes between clients, the staging area and the store.

    :param images: the ImageService (visibility, ownership, quota).
    :param staging: the staging area (default: ``[image] staging_dir``).
    """

    def __init__(self, conf: cfg.ConfigOpts, registry: Any, store: store_base.Store,
                 images: Any, staging: filesystem.FilesystemStore | None = None,
                 import_workers: int = 2, hash_workers: int = 8) -> None:
        self.conf = conf
        self.registry = registry
        self.store = store
        self.images = images
        self.staging = staging or filesystem.FilesystemStore(
            lambda: conf.image.staging_dir, file_mode=0o600, dir_mode=0o700)
        self._jobs = concurrent.futures.ThreadPoolExecutor(
            max_workers=import_workers, thread_name_prefix="image-import")
        self._hash_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=hash_workers, thread_name_prefix="image-hash")
        self.tasks = import_tasks.ImportTasks(registry)

    def close(self, wait: bool = True) -> None:
        """Stop the import and hashing threads (after running imports, if ``wait``)."""
        self._jobs.shutdown(wait=wait)
        self._hash_pool.shutdown(wait=wait)

    def _writable(self, ctxt: Any, image_id: str, what: str, content_length: int | None,
                  status: str) -> dict[str, Any]:
        """Checks shared by upload and stage, then queued -> ``status``."""
        if content_length is not None and content_length > self.conf.image.image_size_cap:
            raise exception.ImageSizeLimitExceeded()  # first: 413 closes the connection
        image = self.images.get_owned(ctxt, image_id, what)
        ctxt.can("image:upload_image", target={"project_id": image.get("owner")})
        if image["status"] != "queued":
            raise common_exc.Conflict("Image status must be queued to %s this image, not %s."
                                      % (what, image["status"]))
        if status == "saving":
            self._require_formats(image, "saving data")
        if content_length is not None:
            remaining = self.images.remaining_bytes(ctxt, image.get("owner"))
            if remaining is not None and content_length > remaining:
                raise exception.QuotaExceeded(resource="image_size_total",
                                              detail="%d bytes remain" % remaining)
        self.registry.image_update(ctxt, image_id, {"status": status}, from_status=["queued"])
        return image

    @staticmethod
    def _require_formats(image: dict[str, Any], doing: str) -> None:
        if not image.get("disk_format") or not image.get("container_format"):
            raise common_exc.Invalid("Properties disk_format, container_format must be set "
                                     "prior to %s." % doing)

    @staticmethod
    def _gone(image_id: str) -> common_exc.Gone:
        return common_exc.Gone("Image %s could not be found after upload. The image may "
                               "have been deleted during the upload." % image_id)

    def _touch(self, ctxt: Any, image_id: str, status: str) -> None:
        """Tell the registry the data of ``image_id`` is still moving. :raises: Gone
        (410: deleted), InvalidImageStatusTransition (409: no longer in ``status``)."""
        try:
            self.registry.image_update(ctxt, image_id, {}, from_status=[status])
        except exception.ImageNotFound:
            raise self._gone(image_id)

    def _set_status(self, ctxt: Any, image_id: str, from_status: str,
                    values: dict[str, Any]) -> bool:
        """Best-effort compare-and-set used on failure paths. :raises: nothing."""
        try:
            self.registry.image_update(ctxt, image_id, values, from_status=[from_status])
            return True
        except (exception.ImageNotFound, exception.InvalidImageStatusTransition):
            return False
        except Exception as err:
            LOG.error("Could not put image %(id)s back from %(from)s to %(to)s: %(err)s",
                      {"id": image_id, "from": from_status, "to": values.get("status"),
                       "err": err})
            return False

    # -- the one write path
    @staticmethod
    def _check_format(declared: str | None, header: bytes, tail: bytes) -> None:
        """:raises: FormatMismatch (415), Invalid (400) for unsafe images."""
        detected = formats.detect(header, tail)
        if not formats.matches(declared, detected):
            raise exception.FormatMismatch(
                "Image data does not match the declared disk_format %s (the data is %s)."
                % (declared, detected))
        problem = formats.safety_issue(header, tail)
        if problem:
            raise common_exc.Invalid("Image data is not safe to use: %s." % problem)

    def _ingest(self, ctxt: Any, image: dict[str, Any], chunks: Iterable[bytes],
                expected: int | None, store: store_base.Store, inspect: bool,
                status: str, progress: Callable[[int], None] | None = None
                ) -> tuple[store_base.Staged, dict[str, Any]]:
        """Stream ``chunks`` into ``store`` under every limit, touching the image
        (in ``status``) and calling ``progress(bytes so far)`` as the data moves;
        the data is staged, not committed. With ``inspect``: hashes, format check
        and virtual size.

        :returns: the staged data and the image values describing it.
        :raises: ImageSizeLimitExceeded, QuotaExceeded (413), Invalid (400:
            truncated body, unsafe image), FormatMismatch (415), StorageFull (413).
        """
        declared = image.get("disk_format")
        check = inspect and self.conf.image.require_image_format_match

        def on_header(header: bytes) -> None:
            # Refuse early what the header already proves wrong; a raw-looking
            # head may still be a fixed VHD, whose footer is at the end.
            if not (declared == "vhd" and formats.detect(header) == formats.RAW):
                self._check_format(declared, header, b"")

        def heartbeat(size: int) -> None:
            self._touch(ctxt, image["id"], status)
            if progress is not None:
                progress(size)

        meter = _Meter(chunks, self.conf.image.image_size_cap,
                       self.images.remaining_bytes(ctxt, image.get("owner")), expected,
                       _Digests(self._hash_pool) if inspect else None,
                       on_header if check else None, heartbeat)
        staged = store.add(image["id"], meter)
        values: dict[str, Any] = {"size": meter.size, "location": staged.location}
        try:
            if meter.digests is not None:
                header = bytes(meter.header)
                tail = meter.tail if declared == "vhd" else b""
                if check:
                    self._check_format(declared, header, tail)
                values.update(virtual_size=formats.inspect(header, meter.size, tail)[1],
                              checksum=meter.digests.md5.hexdigest(),
                              os_hash_algo=HASH_ALGO,
                              os_hash_value=meter.digests.sha.hexdigest())
        except BaseException:
            staged.abort()
            raise
        return staged, values

    def _activate(self, ctxt: Any, image_id: str, staged: store_base.Staged,
                  values: dict[str, Any], from_status: str) -> dict[str, Any]:
        """Record the data (status active), then commit it.

        :raises: Gone (410) when the image was deleted meanwhile, Conflict (409).
        """
        try:
            image = self.registry.image_update(ctxt, image_id, dict(values, status="active"),
                                               from_status=[from_status])
        except exception.ImageNotFound:
            staged.abort()
            raise self._gone(image_id)
        except BaseException:
            staged.abort()
            raise
        try:
            staged.commit()
        except BaseException:
            staged.abort()
            cleared = dict.fromkeys(_DATA_KEYS)
            self._set_status(ctxt, image_id, "active", dict(cleared, status="queued"))
            raise
        try:
            self.registry.image_get(ctxt, image_id)
        except exception.ImageNotFound:
            # A delete between the record and the commit found no file to remove.
            self.store.delete(staged.location)
            raise self._gone(image_id)
        except Exception as err:  # the image is active and its data in place
            LOG.warning("Image %(id)s: check after commit: %(e)s", {"id": image_id, "e": err})
        return image

    # -- upload / download
    def upload(self, ctxt: Any, image_id: str, chunks: Iterable[bytes],
               content_length: int | None) -> dict[str, Any]:
        """PUT /v2/images/{id}/file: store the data and activate the image.

        :param content_length: the declared size, None for a chunked body.
        :returns: the active image.
        :raises: ImageNotFound (404), Forbidden (403), Conflict (409: not queued),
            Invalid (400: truncated body, formats not set), ImageSizeLimitExceeded,
            QuotaExceeded, StorageFull (413), FormatMismatch (415), Gone (410).
        """
        image = self._writable(ctxt, image_id, "upload data to", content_length, "saving")
        try:
            staged, values = self._ingest(ctxt, image, chunks, content_length, self.store,
                                          True, "saving")
            image = self._activate(ctxt, image_id, staged, values, "saving")
        except BaseException:
            self._set_status(ctxt, image_id, "saving", {"status": "queued"})
            raise
        LOG.info("Image %(id)s active: %(size)d bytes uploaded",
                 {"id": image_id, "size": values["size"]})
        image_service.notify(ctxt, "image.upload", image)
        image_service.notify(ctxt, "image.activate", image)
        return image

    def download(self, ctxt: Any, image_id: str,
                 range_header: str | None) -> tuple[int, dict[str, str], Iterable[bytes]]:
        """GET /v2/images/{id}/file.

        :returns: ``(status, headers, body iterator)``; 204 and no body when the
            image has no data, 206 for a range.
        :raises: ImageNotFound (404), Forbidden (403: policy, deactivated image),
            RangeNotSatisfiable (416).
        """
        image = self.images.get(ctxt, image_id)
        ctxt.can("image:download_image", target={"project_id": image.get("owner")})
        if image["status"] == "deactivated" and not ctxt.is_admin:
            raise common_exc.Forbidden("The requested image has been deactivated. Image "
                                       "data download is forbidden.")
        if image["status"] not in ("active", "deactivated") or not image.get("location"):
            return 204, {}, []
        size = int(image.get("size") or 0)
        headers = {"Content-Type": "application/octet-stream"}
        status, first, last = 200, 0, size - 1
        if range_header:
            first, last = parse_range(range_header, size)
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (first, last, size)
        try:
            body = self.store.get(image["location"], first, last - first + 1)
        except store_base.DataNotFound:
            LOG.warning("Image %(id)s is %(status)s but its data is missing",
                        {"id": image_id, "status": image["status"]})
            return 204, {}, []
        if image.get("checksum"):
            headers["Content-MD5"] = image["checksum"]
        headers["Content-Length"] = str(last - first + 1)
        return status, headers, body

    # -- glance-direct: stage, then import
    def stage(self, ctxt: Any, image_id: str, chunks: Iterable[bytes],
              content_length: int | None) -> None:
        """PUT /v2/images/{id}/stage: keep the data in the staging area (status
        ``uploading``) for a later import.

        :raises: like :meth:`upload`, without the format and checksum work.
        """
        image = self._writable(ctxt, image_id, "stage data for", content_length, "uploading")
        try:
            staged, values = self._ingest(ctxt, image, chunks, content_length, self.staging,
                                          False, "uploading")
            staged.commit()
            try:
                self.registry.image_get(ctxt, image_id)
            except exception.ImageNotFound:
                self.staging.delete(staged.location)
                raise self._gone(image_id)
        except BaseException:
            self._set_status(ctxt, image_id, "uploading", {"status": "queued"})
            raise
        LOG.info("Image %(id)s: %(size)d bytes staged", {"id": image_id, "size": values["size"]})

    def import_(self, ctxt: Any, image_id: str, body: Any) -> None:
        """POST /v2/images/{id}/import: start importing staged data; the import
        runs in the background and ends with the image ``active`` or ``queued``.
        Its task (see :mod:`image.import_tasks`) tells how it went.

        :raises: ImageNotFound (404), Forbidden (403), Invalid (400: body, method,
            formats not set), Conflict (409: not staged).
        """
        image = self.images.get_owned(ctxt, image_id, "import data to")
        ctxt.can("image:upload_image", target={"project_id": image.get("owner")})
        method = body.get("method") if isinstance(body, dict) else None
        name = method.get("name") if isinstance(method, dict) else None
        if not isinstance(name, str):
            raise common_exc.ValidationError(field="method",
                                             detail="an object with a 'name' is required")
        if name not in IMPORT_METHODS:
            raise common_exc.Invalid("Import method %s is not supported." % name)
        if image["status"] != "uploading":
            raise common_exc.Conflict("Image needs to be staged before 'glance-direct' "
                                      "method can be used.")
        self._require_formats(image, "importing data")
        try:
            data = self.staging.get(self.staging.location_for(image_id))
        except store_base.DataNotFound:
            self._set_status(ctxt, image_id, "uploading", {"status": "queued"})
            raise common_exc.Conflict("The staged data of image %s is missing; stage "
                                      "it again." % image_id)
        task_id = None
        try:
            task_id = self.tasks.start(ctxt, image, body)
            self.registry.image_update(ctxt, image_id, {"status": "importing"},
                                       from_status=["uploading"])
            self._jobs.submit(self._run_import, ctxt, image, data, task_id)
        except BaseException as err:
            data.close()
            self.tasks.fail(ctxt, task_id, "The import could not start", err)
            raise

    def _run_import(self, ctxt: Any, image: dict[str, Any],
                    data: store_base.DataIterator, task_id: str | None = None) -> None:
        ctxt.update_store()  # request id on this thread's log lines
        image_id, keep = image["id"], False
        try:
            self._touch(ctxt, image_id, "importing")
            self.tasks.processing(ctxt, task_id)
            staged, values = self._ingest(
                ctxt, image, data, None, self.store, True, "importing",
                lambda size: self.tasks.progress(ctxt, task_id, size))
            active = self._activate(ctxt, image_id, staged, values, "importing")
        except exception.InvalidImageStatusTransition as err:
            # The registry put the image back to uploading (this import waited too
            # long behind others): its staged data stays, to be imported again.
            LOG.warning("Import of image %(id)s abandoned: %(err)s", {"id": image_id, "err": err})
            self.tasks.fail(ctxt, task_id, "The import waited too long and was abandoned; "
                            "the staged data is kept: import the image again")
            keep = True
            return
        except Exception as err:
            if isinstance(err, common_exc.Error) and err.code < 500:
                LOG.warning("Import of image %(id)s failed: %(err)s",
                            {"id": image_id, "err": err})
            else:
                LOG.exception("Import of image %(id)s failed", {"id": image_id})
            self._set_status(ctxt, image_id, "importing", {"status": "queued"})
            self.tasks.fail(ctxt, task_id, "The import failed", err)
            return
        finally:
            data.close()
            if not keep:
                self.delete_staged(image_id)
        self.tasks.succeed(ctxt, task_id, image_id)
        LOG.info("Image %(id)s active: %(size)d bytes imported",
                 {"id": image_id, "size": values["size"]})
        image_service.notify(ctxt, "image.upload", active)
        image_service.notify(ctxt, "image.activate", active)

    def delete_staged(self, image_id: str) -> None:
        """Remove the staged data of ``image_id`` (if any), e.g. when the image is
        deleted while ``uploading``. :raises: nothing (failures are logged)."""
        location = self.staging.location_for(image_id)
        try:
            self.staging.delete(location)
        except OSError as err:
            LOG.warning("Could not delete staged data %(loc)s: %(err)s",
                        {"loc": location, "err": err})

    # -- start-up
    def cleanup(self, ctxt: Any) -> None:
        """At API start: remove what crashed uploads left behind. :raises: nothing."""
        removed = self.store.cleanup_orphans() + self.staging.cleanup_orphans()
        if removed:
            LOG.info("Removed %(n)d orphaned temporary image files", {"n": removed})

    def reset_stuck(self, ctxt: Any, image_ids: Iterable[str]) -> list[str]:
        """Put images whose upload or import died with its process back where a
        client can retry: ``saving`` to ``queued``; ``importing`` to ``uploading``
        when its staged data is still there (as the registry's periodic reset
        does), else to ``queued``.

        :returns: the ids that were reset.
        :raises: nothing for images that vanished or moved on meanwhile.
        """
        reset = []
        for image_id in image_ids:
            staged = os.path.exists(self.staging.path_for(image_id))
            if self._set_status(ctxt, image_id, "saving", {"status": "queued"}) or \
                    self._set_status(ctxt, image_id, "importing",
                                     {"status": "uploading" if staged else "queued"}):
                reset.append(image_id)
        if reset:
            LOG.info("Reset %(n)d images stuck in saving/importing", {"n": len(reset)})
        return reset
