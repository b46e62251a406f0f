"""The image API (Glance v2) as block storage calls it: image records, data
downloads for volumes created from images, and records plus data uploads for
``os-volume_upload_image``.

Credentials come from ``[service_user]``, the endpoint from ``[glance]`` or the
catalog (type ``image``). Calls with a user's context go as that user plus the
service token; the image's owner is then the user's project.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import clients
from blockstorage import exception
from blockstorage.conf import clients as clients_conf

LOG = logging.getLogger(__name__)
SERVICE_TYPE = "image"
CHUNK_SIZE = 64 * 1024
#: Keys of an image record that are not free-form properties (sent with their type).
CORE_KEYS = frozenset((
    "id", "name", "visibility", "protected", "os_hidden", "container_format",
    "disk_format", "min_disk", "min_ram", "tags"))
#: Keys the image service computes; never sent.
READ_ONLY = frozenset((
    "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
    "created_at", "updated_at", "file", "schema", "self", "direct_url", "locations",
    "owner", "stores"))


_INT_KEYS = ("min_disk", "min_ram")
_BOOL_KEYS = ("protected", "os_hidden")


def _property(key: str, value: Any) -> Any:
    # Values kept from an image on a volume (volume_image_metadata) are strings;
    # the image API wants its core keys typed.
    if key in _INT_KEYS:
        return int(value)
    if key in _BOOL_KEYS and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if key in CORE_KEYS:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def image_body(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` as Glance v2 takes it on create: core keys keep their type, other
    properties become strings, ``None`` values and read-only keys are left out."""
    return {key: _property(key, value) for key, value in meta.items()
            if value is not None and key not in READ_ONLY}


class ImageAPI:
    """Calls to the image service; one per daemon (it holds only the config)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def _request(self, ctxt: Any, method: str, path: str, image_id: str,
                 **kwargs: Any) -> Any:
        """One call; an error status becomes the block storage error that means it."""
        kwargs.setdefault("timeout", self.conf[clients_conf.GLANCE_GROUP].image_timeout)
        try:
            api = clients.adapter(self.conf, ctxt, clients_conf.GLANCE_GROUP, SERVICE_TYPE)
            resp = api.request(path, method, **kwargs)
        except clients.UNREACHABLE as err:
            raise exception.ImageServiceUnavailable(reason=str(err)) from err
        if resp.status_code >= 400:
            _raise(resp, image_id)
        return resp

    def get_image(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        """The image record (``GET /v2/images/{id}``), core keys and properties flat.

        :param ctxt: the context to act for.
        :param image_id: the image's id.
        :returns: the record.
        :raises: ImageNotFound, ImageNotAuthorized, ImageServiceUnavailable.
        """
        return dict(self._request(ctxt, "GET", "/v2/images/%s" % image_id, image_id).json())

    def download_image(self, ctxt: Any, image_id: str, path: str) -> dict[str, Any]:
        """Stream the image's data into ``path``, verified.

        The bytes go to a temporary file beside ``path`` and are renamed into
        place only when the size, the md5 ``checksum`` and the
        ``os_hash_value`` the image has all match; otherwise nothing is left.

        :param ctxt: the context to act for.
        :param image_id: the image's id.
        :param path: the destination file (its directory must exist).
        :returns: the image record the data was checked against.
        :raises: ImageNotFound, ImageNotAuthorized, ImageUnacceptable (the
            image has no data), ImageCopyFailure (a mismatch or a cut-off
            stream), ImageServiceUnavailable; OSError on local disk errors.
        """
        image = self.get_image(ctxt, image_id)
        if image.get("status") not in (None, "active"):
            raise exception.ImageUnacceptable(
                image_id=image_id, reason="status %s, no data" % image.get("status"))
        resp = self._request(ctxt, "GET", "/v2/images/%s/file" % image_id, image_id,
                             stream=True)
        if resp.status_code == 204:
            resp.close()
            raise exception.ImageUnacceptable(image_id=image_id, reason="no data")
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path),
                                   suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _Digest(image)
                _stream(resp, out, digest, image_id)
                out.flush()
                os.fsync(out.fileno())
            digest.verify(image)
            os.replace(tmp, path)
        except BaseException:
            resp.close()
            _unlink(tmp)
            raise
        LOG.info("Downloaded image %(image)s (%(size)d bytes) to %(path)s",
                 {"image": image_id, "size": digest.size, "path": path})
        return image

    def create_image(self, ctxt: Any, meta: dict[str, Any]) -> dict[str, Any]:
        """Create an image record without data (``queued``), as ``ctxt``'s user.

        :param ctxt: the context to act for (the image's owner is its project).
        :param meta: core keys (``name``, ``disk_format``, ``container_format``,
            ``visibility``, ``protected``, ``min_disk`` …) and free-form
            properties (sent as strings; ``None`` values left out).
        :returns: the new record.
        :raises: ImageUnacceptable (refused: bad property, quota, conflict),
            ImageNotAuthorized, ImageServiceUnavailable.
        """
        body = image_body(meta)
        resp = self._request(ctxt, "POST", "/v2/images", str(meta.get("id") or ""),
                             json=body)
        return dict(resp.json())

    def upload_image_data(self, ctxt: Any, image_id: str, path: str) -> dict[str, Any]:
        """Stream the file at ``path`` as the image's data (``PUT /v2/images/{id}/file``).

        :param ctxt: the context to act for.
        :param image_id: a ``queued`` image with its disk and container formats set.
        :param path: the file to send (read in blocks, never whole).
        :returns: the record after the upload (``active``, with its checksum).
        :raises: ImageNotFound, ImageNotAuthorized, ImageUnacceptable (the
            image already has data, a quota), ImageServiceUnavailable; OSError
            when ``path`` cannot be read.
        """
        size = os.path.getsize(path)
        with open(path, "rb") as data:
            # A file object with a known length goes out in blocks (Content-Length set).
            self._request(ctxt, "PUT", "/v2/images/%s/file" % image_id, image_id,
                          data=data, headers={"Content-Type": "application/octet-stream"},
                          log=False)
        LOG.info("Uploaded %(size)d bytes from %(path)s to image %(image)s",
                 {"size": size, "path": path, "image": image_id})
        return self.get_image(ctxt, image_id)

    def delete_image(self, ctxt: Any, image_id: str) -> None:
        """Delete an image (e.g. the record of a failed upload); gone already is fine.

        :raises: ImageNotAuthorized, ImageServiceUnavailable.
        """
        try:
            self._request(ctxt, "DELETE", "/v2/images/%s" % image_id, image_id)
        except exception.ImageNotFound:
            pass


class _Digest:
    """Size, md5 and the image's own ``os_hash_algo`` over the bytes downloaded."""

    def __init__(self, image: dict[str, Any]) -> None:
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.other: Any = None
        algo = image.get("os_hash_algo")
        if algo and image.get("os_hash_value"):
            try:
                self.other = hashlib.new(str(algo))
            except ValueError:
                LOG.warning("Image %(image)s: unknown os_hash_algo %(algo)s, not verified",
                            {"image": image.get("id"), "algo": algo})

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.md5.update(chunk)
        if self.other is not None:
            self.other.update(chunk)

    def verify(self, image: dict[str, Any]) -> None:
        """:raises: ImageCopyFailure when a figure the image has does not match."""
        image_id = image.get("id")
        problems = []
        if image.get("size") is not None and int(image["size"]) != self.size:
            problems.append("got %d bytes, the image has %s" % (self.size, image["size"]))
        if image.get("checksum") and self.md5.hexdigest() != image["checksum"]:
            problems.append("md5 %s is not the image's checksum %s"
                            % (self.md5.hexdigest(), image["checksum"]))
        if self.other is not None and self.other.hexdigest() != image["os_hash_value"]:
            problems.append("%s does not match the image's os_hash_value"
                            % image["os_hash_algo"])
        if problems:
            raise exception.ImageCopyFailure(
                reason="image %s: %s" % (image_id, "; ".join(problems)))


def _stream(resp: Any, out: Any, digest: _Digest, image_id: str) -> None:
    try:
        for chunk in resp.iter_content(CHUNK_SIZE):
            out.write(chunk)
            digest.update(chunk)
    except OSError as err:
        if err.errno is not None:  # the local disk (ENOSPC, EIO), not the stream
            raise
        raise exception.ImageCopyFailure(
            reason="image %s: download cut off: %s" % (image_id, err)) from err
    except Exception as err:  # requests' ChunkedEncodingError, read timeouts …
        raise exception.ImageCopyFailure(
            reason="image %s: download cut off: %s" % (image_id, err)) from err


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _raise(resp: Any, image_id: str) -> None:
    message = clients.error_message(resp)
    status = resp.status_code
    LOG.debug("Image service answered %(status)s for %(image)s: %(msg)s",
              {"status": status, "image": image_id, "msg": message})
    if status == 404:
        raise exception.ImageNotFound(image_id=image_id)
    if status in (401, 403):
        raise exception.ImageNotAuthorized(image_id=image_id)
    if status < 500:
        raise exception.ImageUnacceptable(image_id=image_id,
                                          reason="HTTP %s: %s" % (status, message))
    raise exception.ImageServiceUnavailable(reason="HTTP %s: %s" % (status, message))
