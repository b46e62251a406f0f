"""Options of the REST clients of image (Glance v2) and object store (Swift v1).

``[service_user]`` holds the block storage service's own keystoneauth credentials
(with TLS options and ``send_service_token``): calls made for a user carry the
user's token plus this service's token, so a long backup or image upload
survives the expiry of the user's token. ``[glance]`` and ``[swift]`` only choose
the endpoint (service_type, region_name, valid_interfaces, endpoint_override …);
the catalog of ``[service_user]``'s token is used when no override is set.
"""
from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from common.clients import base

SERVICE_USER_GROUP = "service_user"
GLANCE_GROUP = "glance"
SWIFT_GROUP = "swift"

GLANCE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("image_timeout", default=600, min=1,
               help="Seconds to wait for a read of image data to make progress "
                    "during a download or an upload (volumes from images, "
                    "os-volume_upload_image)."),
]

SWIFT_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("reseller_prefix", default="AUTH_",
               help="Prefix of account names in the object store. A backup lives "
                    "in the account of its project (``<prefix><project_id>``): the "
                    "account part of the catalog's (or the override's) URL is "
                    "replaced with it. An ``endpoint_override`` may also hold "
                    "``%(project_id)s``."),
    cfg.IntOpt("object_timeout", default=300, min=1,
               help="Seconds to wait for the object store to answer one request "
                    "(one backup chunk up or down)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[service_user]``, ``[glance]`` and ``[swift]`` on ``conf``."""
    base.register_opts(conf, SERVICE_USER_GROUP)
    for group, opts in ((GLANCE_GROUP, GLANCE_OPTS), (SWIFT_GROUP, SWIFT_OPTS)):
        ks_loading.register_adapter_conf_options(conf, group)
        conf.register_opts(opts, group=group)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """These options, for oslo-config-generator."""
    adapter_opts = ks_loading.get_adapter_conf_options
    found: list[tuple[str | None, list[cfg.Opt]]] = list(base.list_opts(SERVICE_USER_GROUP))
    found.append((GLANCE_GROUP, adapter_opts() + GLANCE_OPTS))
    found.append((SWIFT_GROUP, adapter_opts() + SWIFT_OPTS))
    return found
