"""The image API (Glance v2), as compute calls it: image metadata, downloads to
the node's image cache, snapshots (create, upload, delete, property updates).

Credentials come from ``[glance]`` (keystoneauth options, as Nova names the
group), the endpoint from the catalog (service type ``image``). With a context
the calls go as its user plus the service token; ``ctxt=None`` acts as the
compute service itself.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg
from oslo_log import log as logging

from common.clients import base
from compute import clients
from compute import exception

LOG = logging.getLogger(__name__)
GROUP = "glance"
SERVICE_TYPE = "image"
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
CHUNK_SIZE = 64 * 1024
#: Keys of an image that are not free-form properties (sent with their own type).
CORE_KEYS = frozenset((
    "id", "name", "visibility", "protected", "os_hidden", "container_format",
    "disk_format", "min_disk", "min_ram", "tags"))
#: Keys the image service computes; never sent.
READ_ONLY = frozenset((
    "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
    "created_at", "updated_at", "file", "schema", "self", "direct_url", "locations",
    "owner", "stores"))


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register_opts(conf, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return base.list_opts(GROUP)


def _api(conf: cfg.ConfigOpts, ctxt: Any) -> ks_adapter.Adapter:
    return clients.adapter(conf, ctxt, GROUP, SERVICE_TYPE, exception.ImageServiceUnavailable)


def _request(conf: cfg.ConfigOpts, ctxt: Any, method: str, path: str, image_id: str,
             **kwargs: Any) -> Any:
    """One call; an error status becomes the compute exception that means it."""
    api = _api(conf, ctxt)
    try:
        resp = api.request(path, method, **kwargs)
    except clients.UNREACHABLE as err:
        raise exception.ImageServiceUnavailable(reason=str(err)) from err
    if resp.status_code >= 400:
        _raise(resp, image_id)
    return resp


def _raise(resp: Any, image_id: str) -> None:
    message = clients.error_message(resp)
    status = resp.status_code
    LOG.debug("Image service answered %(status)s for %(image)s: %(msg)s",
              {"status": status, "image": image_id, "msg": message})
    if status == 404:
        raise exception.ImageNotFound(image_id=image_id)
    if status in (401, 403):
        raise exception.ImageNotAuthorized(image_id=image_id)
    if status == 409:
        raise exception.ImageConflict(image_id=image_id, reason=message)
    if status == 413:
        raise exception.ImageQuotaExceeded(image_id=image_id, reason=message)
    if status < 500:
        raise exception.ImageBadRequest(image_id=image_id, response=message)
    raise exception.ImageServiceUnavailable(reason="HTTP %s: %s" % (status, message))


def get_image(conf: cfg.ConfigOpts, ctxt: Any, image_id: str) -> dict[str, Any]:
    """The image record (``GET /v2/images/{id}``): core keys and properties, flat.

    :raises: ImageNotFound (404; the server create path raises
        RequestedImageNotFound, 400, instead), ImageNotAuthorized,
        ImageServiceUnavailable.
    """
    resp = _request(conf, ctxt, "GET", "/v2/images/%s" % image_id, image_id)
    return dict(resp.json())


#: How long :func:`get_image_cached` keeps an active image's record (seconds).
CACHE_SECONDS = 5.0
_CACHE = clients.RecordCache(CACHE_SECONDS)


def get_image_cached(conf: cfg.ConfigOpts, ctxt: Any, image_id: str) -> dict[str, Any]:
    """:func:`get_image`, the answer kept :data:`CACHE_SECONDS` per caller (token and
    project) and image: a burst of boots of one image asks the image service once.
    Only active images are kept; errors and other states are asked again.
    """
    found = _CACHE.get(ctxt, image_id)
    if found is not None:
        return found
    image = get_image(conf, ctxt, image_id)
    if image.get("status") == "active":
        _CACHE.put(ctxt, image_id, image)
    return image


def clear_image_cache() -> None:
    """Forget the records :func:`get_image_cached` kept (tests)."""
    _CACHE.clear()


def list_images(conf: cfg.ConfigOpts, ctxt: Any,
                filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every image ``ctxt`` sees that matches ``filters`` (core keys or properties,
    e.g. ``{"instance_uuid": ..., "image_type": "backup"}``), following the pages.

    :raises: ImageNotAuthorized, ImageBadRequest (a bad filter),
        ImageServiceUnavailable.
    """
    params: list[tuple[str, str]] | None = [
        (key, str(value)) for key, value in (filters or {}).items() if value is not None]
    url: str | None = "/v2/images"
    images: list[dict[str, Any]] = []
    while url:
        body = _request(conf, ctxt, "GET", url, "", params=params).json()
        images.extend(body.get("images", []))
        url = body.get("next")
        params = None  # the next link carries the query
    return images


def _verify(image: dict[str, Any], size: int, md5: Any, other: Any) -> None:
    image_id = str(image.get("id"))
    if image.get("size") is not None and int(image["size"]) != size:
        raise exception.ImageDownloadFailed(
            image_id=image_id, reason="got %d bytes, the image has %s" % (size, image["size"]))
    if image.get("checksum") and md5.hexdigest() != image["checksum"]:
        raise exception.ImageDownloadFailed(
            image_id=image_id, reason="md5 %s does not match the image's checksum %s"
            % (md5.hexdigest(), image["checksum"]))
    if other is not None and other.hexdigest() != image["os_hash_value"]:
        raise exception.ImageDownloadFailed(
            image_id=image_id, reason="%s %s does not match the image's os_hash_value"
            % (image["os_hash_algo"], other.hexdigest()))


def _hasher(image: dict[str, Any]) -> Any:
    algo, value = image.get("os_hash_algo"), image.get("os_hash_value")
    if not algo or not value:
        return None
    try:
        return hashlib.new(str(algo))
    except ValueError:
        LOG.warning("Image %(image)s: unknown os_hash_algo %(algo)s, not verified",
                    {"image": image.get("id"), "algo": algo})
        return None


def download(conf: cfg.ConfigOpts, ctxt: Any, image_id: str,
             dest_path: str) -> dict[str, Any]:
    """Stream the image's data into ``dest_path``, verified.

    The data goes to a temporary file beside ``dest_path``, in chunks, and is
    renamed into place only when its size, md5 ``checksum`` and
    ``os_hash_value`` (those the image has) match; otherwise nothing is left
    behind.

    :returns: the image record the data was checked against.
    :raises: ImageNotFound, ImageNotAuthorized, ImageNotActive (the image has
        no data yet), ImageDownloadFailed (checksum mismatch, cut-off
        stream), ImageServiceUnavailable; OSError on local disk errors.
    """
    image = get_image(conf, ctxt, image_id)
    resp = _request(conf, ctxt, "GET", "/v2/images/%s/file" % image_id, image_id,
                    stream=True)
    if resp.status_code == 204:
        raise exception.ImageNotActive(image_id=image_id)
    md5 = hashlib.md5(usedforsecurity=False)
    other = _hasher(image)
    directory = os.path.dirname(os.path.abspath(dest_path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(dest_path),
                               suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                for chunk in resp.iter_content(CHUNK_SIZE):
                    out.write(chunk)
                    md5.update(chunk)
                    if other is not None:
                        other.update(chunk)
                    size += len(chunk)
            except Exception as err:  # requests' ChunkedEncodingError, timeouts …
                if isinstance(err, OSError) and not _is_stream_error(err):
                    raise
                raise exception.ImageDownloadFailed(image_id=image_id,
                                                    reason=str(err)) from err
            out.flush()
            os.fsync(out.fileno())
        _verify(image, size, md5, other)
        os.replace(tmp, dest_path)
    except BaseException:
        resp.close()
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    LOG.info("Downloaded image %(image)s (%(size)d bytes) to %(path)s",
             {"image": image_id, "size": size, "path": dest_path})
    return image


def _is_stream_error(err: OSError) -> bool:
    # requests' and urllib3's errors subclass IOError too; local disk errors
    # (ENOSPC, EIO on the destination) have an errno and no response.
    return err.errno is None


def _property_value(key: str, value: Any) -> Any:
    if key in CORE_KEYS:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Properties as Glance v2 takes them: core keys typed, others strings, no Nones."""
    return {key: _property_value(key, value) for key, value in props.items()
            if value is not None and key not in READ_ONLY}


def create_image(conf: cfg.ConfigOpts, ctxt: Any, name: str, **props: Any) -> dict[str, Any]:
    """Create an image record without data (``queued``), e.g. for a snapshot.

    :param name: the image name.
    :param props: core keys (``container_format``, ``disk_format``,
        ``visibility``, ``min_disk``, ``min_ram``, ``protected``, ``tags``,
        ``id`` …) and free-form properties (``instance_uuid``,
        ``image_type``, ``base_image_ref`` …), which are sent as strings;
        ``None`` values and read-only keys are left out.
    :returns: the new image record.
    :raises: ImageBadRequest (a property the image service refuses),
        ImageQuotaExceeded, ImageNotAuthorized, ImageServiceUnavailable.
    """
    body = _clean(dict(props, name=name))
    resp = _request(conf, ctxt, "POST", "/v2/images", str(props.get("id") or name),
                    json=body)
    return dict(resp.json())


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def update_image_properties(conf: cfg.ConfigOpts, ctxt: Any, image_id: str,
                            properties: dict[str, Any],
                            remove: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Set ``properties`` (a value of None removes the key) and remove ``remove``,
    in one JSON-patch (``application/openstack-images-v2.1-json-patch``).

    :returns: the updated image record.
    :raises: ImageNotFound, ImageNotAuthorized, ImageBadRequest, ImageConflict,
        ImageServiceUnavailable.
    """
    current = get_image(conf, ctxt, image_id)
    ops: list[dict[str, Any]] = []
    gone = set(remove) | {key for key, value in properties.items() if value is None}
    for key, value in _clean(properties).items():
        op = "replace" if key in current else "add"
        ops.append({"op": op, "path": _pointer(key), "value": value})
    for key in sorted(gone):
        if key in current and key not in READ_ONLY:
            ops.append({"op": "remove", "path": _pointer(key)})
    if not ops:
        return current
    resp = _request(conf, ctxt, "PATCH", "/v2/images/%s" % image_id, image_id, json=ops,
                    headers={"Content-Type": PATCH_TYPE})
    return dict(resp.json())


def upload(conf: cfg.ConfigOpts, ctxt: Any, image_id: str, path: str,
           disk_format: str | None = None, container_format: str | None = None,
           properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stream the file at ``path`` as the image's data (``PUT /v2/images/{id}/file``).

    ``disk_format``/``container_format`` and ``properties``, when given, are
    set first (Glance needs the formats before it takes data).

    :returns: the image record after the upload (``active`` with its checksum).
    :raises: ImageNotFound, ImageNotAuthorized, ImageConflict (the image
        already has data), ImageQuotaExceeded, ImageBadRequest,
        ImageServiceUnavailable; OSError when ``path`` cannot be read.
    """
    changes = dict(properties or {})
    if disk_format:
        changes["disk_format"] = disk_format
    if container_format:
        changes["container_format"] = container_format
    if changes:
        update_image_properties(conf, ctxt, image_id, changes)
    size = os.path.getsize(path)
    with open(path, "rb") as data:
        # A file object with a known length goes out in blocks, not read whole.
        _request(conf, ctxt, "PUT", "/v2/images/%s/file" % image_id, image_id, data=data,
                 headers={"Content-Type": "application/octet-stream"}, log=False)
    LOG.info("Uploaded %(size)d bytes from %(path)s to image %(image)s",
             {"size": size, "path": path, "image": image_id})
    return get_image(conf, ctxt, image_id)


def delete_image(conf: cfg.ConfigOpts, ctxt: Any, image_id: str) -> None:
    """Delete an image (``DELETE /v2/images/{id}``).

    :raises: ImageNotFound, ImageNotAuthorized (e.g. protected),
        ImageServiceUnavailable.
    """
    _request(conf, ctxt, "DELETE", "/v2/images/%s" % image_id, image_id)
