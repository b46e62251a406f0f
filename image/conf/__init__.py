"""Image options: registered by ``register_opts``, read at call time."""
from __future__ import annotations

from keystonemiddleware import auth_token  # noqa: F401  (registers [keystone_authtoken])
from oslo_config import cfg

from common import conf as common_conf
from common.clients import base as clients_base
from common import rpc
from image.conf import image as image_opts

API_PORT = 9292
#: The image service's own credentials for the object store store.
SWIFT_GROUP = "swift_store"


def register_opts(conf: cfg.ConfigOpts) -> None:
    common_conf.register_opts(conf, api_port=API_PORT)
    rpc.register_opts(conf)
    image_opts.register_opts(conf)
    clients_base.register_opts(conf, SWIFT_GROUP)
