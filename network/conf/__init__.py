"""Network options: registered by ``register_opts``, read at call time."""
from __future__ import annotations

from keystonemiddleware import auth_token  # noqa: F401  (registers [keystone_authtoken])
from oslo_config import cfg

from common import conf as common_conf
from common import rpc
from common import rpc_service
from network.clients import compute as compute_client
from network.conf import network as network_opts

API_PORT = 9696


def register_opts(conf: cfg.ConfigOpts) -> None:
    common_conf.register_opts(conf, api_port=API_PORT)
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    network_opts.register_opts(conf)
    compute_client.register_opts(conf)
