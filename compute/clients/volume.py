"""The block storage API (Cinder v3), as compute calls it: volumes and the
attachments API (microversion 3.44: create/reserve, update with the host's
connector to get the connection_info, complete, delete).

Credentials come from ``[cinder]`` (keystoneauth options, as Nova names the
group), the endpoint from the catalog (service type ``volumev3``). Calls go
as the context's user plus the service token (``ctxt=None``: as the compute
service). The catalog's URL may carry a project id (``/v3/<project>``): the
service's catalog holds the service's project there, so the URL is rebuilt
with the project of whoever the call is made as.

Errors become compute exceptions: 404 ``VolumeNotFound`` or
``VolumeAttachmentNotFound``, other 4xx (the volume is not available, already
attached …) ``InvalidVolume`` (400, as Nova answers), 401/403
``VolumeForbidden``, 413 (a quota) ``VolumeLimitExceeded``, an unreachable
service, a 5xx or a refused microversion ``VolumeServiceUnavailable`` (503).
"""
from __future__ import annotations

import re
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg
from oslo_log import log as logging

from common.clients import base
from compute import clients
from compute import exception

LOG = logging.getLogger(__name__)
GROUP = "cinder"
SERVICE_TYPE = "volumev3"
MICROVERSION = "3.44"
#: 3.54 adds the attach ``mode`` to attachment create.
MODE_MICROVERSION = "3.54"
VERSION_HEADER = "OpenStack-API-Version"
_VERSIONED = re.compile(r"^(?P<root>.*?)/v\d+(\.\d+)?(/[^/]*)?/?$")


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register_opts(conf, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return base.list_opts(GROUP)


def _api(conf: cfg.ConfigOpts, ctxt: Any) -> ks_adapter.Adapter:
    return clients.adapter(conf, ctxt, GROUP, SERVICE_TYPE, exception.VolumeServiceUnavailable)


def _url(api: ks_adapter.Adapter, ctxt: Any, path: str) -> str:
    """``<endpoint root>/v3[/<project>]<path>`` for whoever the call is made as."""
    endpoint = str(api.get_endpoint() or "").rstrip("/")
    if not endpoint:
        raise exception.VolumeServiceUnavailable(reason="no block storage endpoint")
    found = _VERSIONED.match(endpoint)
    root = (found.group("root") if found else endpoint) + "/v3"
    if ctxt is not None and getattr(ctxt, "auth_token", None):
        project = getattr(ctxt, "project_id", None)
    else:
        project = api.get_project_id()
    return root + ("/" + project if project else "") + path


def _call(conf: cfg.ConfigOpts, ctxt: Any, method: str, path: str, missing: Exception,
          microversion: str = MICROVERSION, **kwargs: Any) -> Any:
    """One call; ``missing`` is what a 404 means for it."""
    api = _api(conf, ctxt)
    headers = dict(kwargs.pop("headers", {}))
    headers[VERSION_HEADER] = "volume " + microversion
    try:
        resp = api.request(_url(api, ctxt, path), method, headers=headers, **kwargs)
    except clients.UNREACHABLE as err:
        raise exception.VolumeServiceUnavailable(reason=str(err)) from err
    if resp.status_code < 400:
        return resp
    message = clients.error_message(resp)
    LOG.debug("Block storage answered %(status)s to %(method)s %(path)s: %(msg)s",
              {"status": resp.status_code, "method": method, "path": path, "msg": message})
    if resp.status_code == 404:
        raise missing
    if resp.status_code == 406:
        raise exception.VolumeServiceUnavailable(
            reason="the block storage API does not support microversion %s: %s"
            % (microversion, message))
    if resp.status_code in (401, 403):
        raise exception.VolumeForbidden(reason=message)
    if resp.status_code == 413:
        raise exception.VolumeLimitExceeded(reason=message)
    if resp.status_code < 500:
        prefix = "Invalid volume: "
        raise exception.InvalidVolume(
            reason=message[len(prefix):] if message.startswith(prefix) else message)
    raise exception.VolumeServiceUnavailable(reason="HTTP %s: %s" % (resp.status_code,
                                                                      message))


def get_volume(conf: cfg.ConfigOpts, ctxt: Any, volume_id: str) -> dict[str, Any]:
    """The volume (``GET /volumes/{id}``).

    :raises: VolumeNotFound, VolumeForbidden, VolumeServiceUnavailable.
    """
    resp = _call(conf, ctxt, "GET", "/volumes/%s" % volume_id,
                 exception.VolumeNotFound(volume_id=volume_id))
    return dict(resp.json()["volume"])


def create_volume(conf: cfg.ConfigOpts, ctxt: Any, size: int | None, name: str = "",
                  image_id: str | None = None, snapshot_id: str | None = None,
                  volume_type: str | None = None,
                  availability_zone: str | None = None) -> dict[str, Any]:
    """Ask for a new volume (``POST /volumes``): blank, from an image
    (``imageRef``) or from a snapshot; it starts ``creating``.

    :param size: GiB (None: the snapshot's size).
    :returns: the volume as block storage answered (``id``, ``status`` ...).
    :raises: VolumeLimitExceeded (its quota), InvalidVolume (400: a bad size, an
        image or snapshot it cannot use), VolumeForbidden, VolumeServiceUnavailable.
    """
    body: dict[str, Any] = {"name": name, "description": ""}
    for key, value in (("size", size), ("imageRef", image_id), ("snapshot_id", snapshot_id),
                       ("volume_type", volume_type),
                       ("availability_zone", availability_zone)):
        if value is not None:
            body[key] = value
    resp = _call(conf, ctxt, "POST", "/volumes",
                 exception.InvalidVolume(reason="a source of the volume was not found"),
                 json={"volume": body})
    volume = dict(resp.json()["volume"])
    LOG.info("Volume %(id)s requested (%(size)s GiB, image %(image)s, snapshot %(snap)s)",
             {"id": volume.get("id"), "size": size, "image": image_id, "snap": snapshot_id})
    return volume


def delete_volume(conf: cfg.ConfigOpts, ctxt: Any, volume_id: str) -> None:
    """Delete a volume (``DELETE /volumes/{id}``; block storage finishes it).

    :raises: VolumeNotFound, InvalidVolume (400: attached, or busy), VolumeForbidden,
        VolumeServiceUnavailable.
    """
    _call(conf, ctxt, "DELETE", "/volumes/%s" % volume_id,
          exception.VolumeNotFound(volume_id=volume_id))
    LOG.info("Volume %s deleted", volume_id)


def get_snapshot(conf: cfg.ConfigOpts, ctxt: Any, snapshot_id: str) -> dict[str, Any]:
    """The volume snapshot (``GET /snapshots/{id}``).

    :raises: SnapshotNotFound, VolumeForbidden, VolumeServiceUnavailable.
    """
    resp = _call(conf, ctxt, "GET", "/snapshots/%s" % snapshot_id,
                 exception.SnapshotNotFound(snapshot_id=snapshot_id))
    return dict(resp.json()["snapshot"])


def check_attachable(volume: dict[str, Any], instance_uuid: str | None = None) -> None:
    """Nova's check before reserving: the volume is ``available``, or ``in-use``
    and multiattach (and not already attached to this instance).

    :raises: InvalidVolume (400).
    """
    status = volume.get("status")
    if status == "available":
        return
    if status == "in-use" and volume.get("multiattach"):
        servers = {a.get("server_id") for a in volume.get("attachments") or []}
        if instance_uuid is None or instance_uuid not in servers:
            return
        raise exception.InvalidVolume(
            reason="volume %s is already attached to instance %s" % (volume.get("id"),
                                                                     instance_uuid))
    raise exception.InvalidVolume(
        reason="volume '%s' status must be 'available'. Currently in '%s'"
        % (volume.get("id"), status))


def connection_info(attachment: dict[str, Any]) -> dict[str, Any]:
    """Nova's connection_info from an attachment's: ``{"driver_volume_type",
    "data": {...}, "attachment_id"}`` (Cinder answers it flat; a nested answer is
    kept). ``{}`` when the attachment has no connection yet."""
    raw = attachment.get("connection_info")
    if not raw:
        return {}
    info = dict(raw)
    attachment_id = info.pop("attachment_id", None) or attachment.get("id")
    if isinstance(info.get("data"), dict):
        info["attachment_id"] = attachment_id
        return info
    driver = info.pop("driver_volume_type", None)
    return {"driver_volume_type": driver, "data": info, "attachment_id": attachment_id}


def _attachment(body: Any) -> dict[str, Any]:
    attachment = dict(body["attachment"])
    attachment["connection_info"] = connection_info(attachment)
    return attachment


def attachment_create(conf: cfg.ConfigOpts, ctxt: Any, volume_id: str, instance_uuid: str,
                      connector: dict[str, Any] | None = None,
                      mode: str | None = None) -> dict[str, Any]:
    """Reserve the volume for the instance (``POST /attachments``); with a
    ``connector`` also connect it (the answer then has the connection_info).

    :param mode: ``rw`` or ``ro`` (sent with microversion 3.54).
    :returns: the attachment (``id``, ``status``, ``volume_id``, ``instance``,
        ``attach_mode``, ``connection_info`` in Nova's shape or ``{}``).
    :raises: VolumeNotFound, InvalidVolume (400: not available, already
        attached …), VolumeForbidden, VolumeServiceUnavailable.
    """
    body: dict[str, Any] = {"volume_uuid": volume_id, "instance_uuid": instance_uuid}
    if connector is not None:
        body["connector"] = connector
    if mode is not None:
        body["mode"] = mode
    resp = _call(conf, ctxt, "POST", "/attachments",
                 exception.VolumeNotFound(volume_id=volume_id),
                 microversion=MODE_MICROVERSION if mode else MICROVERSION,
                 json={"attachment": body})
    attachment = _attachment(resp.json())
    LOG.info("Volume %(volume)s reserved for instance %(uuid)s (attachment %(id)s)",
             {"volume": volume_id, "uuid": instance_uuid, "id": attachment.get("id")})
    return attachment


def attachment_get(conf: cfg.ConfigOpts, ctxt: Any, attachment_id: str) -> dict[str, Any]:
    """:raises: VolumeAttachmentNotFound, VolumeForbidden, VolumeServiceUnavailable."""
    resp = _call(conf, ctxt, "GET", "/attachments/%s" % attachment_id,
                 exception.VolumeAttachmentNotFound(attachment_id=attachment_id))
    return _attachment(resp.json())


def attachment_update(conf: cfg.ConfigOpts, ctxt: Any, attachment_id: str,
                      connector: dict[str, Any],
                      mountpoint: str | None = None) -> dict[str, Any]:
    """Give the host's ``connector`` (``PUT /attachments/{id}``): the volume gets
    exported to it.

    :returns: the connection_info, Nova's shape (``driver_volume_type``, ``data``).
    :raises: VolumeAttachmentNotFound, InvalidVolume, VolumeForbidden,
        VolumeServiceUnavailable.
    """
    connector = dict(connector)
    if mountpoint:
        connector["mountpoint"] = mountpoint
    resp = _call(conf, ctxt, "PUT", "/attachments/%s" % attachment_id,
                 exception.VolumeAttachmentNotFound(attachment_id=attachment_id),
                 json={"attachment": {"connector": connector}})
    return dict(_attachment(resp.json())["connection_info"])


def attachment_complete(conf: cfg.ConfigOpts, ctxt: Any, attachment_id: str) -> None:
    """Mark the attachment done, the volume ``in-use``
    (``POST /attachments/{id}/action`` ``{"os-complete": null}``).

    :raises: VolumeAttachmentNotFound, InvalidVolume, VolumeForbidden,
        VolumeServiceUnavailable.
    """
    _call(conf, ctxt, "POST", "/attachments/%s/action" % attachment_id,
          exception.VolumeAttachmentNotFound(attachment_id=attachment_id),
          json={"os-complete": None})


def attachment_delete(conf: cfg.ConfigOpts, ctxt: Any, attachment_id: str) -> None:
    """Delete the attachment (``DELETE /attachments/{id}``): the volume is
    disconnected and, without other attachments, ``available`` again.

    :raises: VolumeAttachmentNotFound, VolumeForbidden, VolumeServiceUnavailable.
    """
    _call(conf, ctxt, "DELETE", "/attachments/%s" % attachment_id,
          exception.VolumeAttachmentNotFound(attachment_id=attachment_id))
