"""Compute options: registered by ``register_opts``, read at call time."""
from __future__ import annotations

from keystonemiddleware import auth_token  # noqa: F401  (registers [keystone_authtoken])
from oslo_config import cfg

from common import conf as common_conf
from compute import clients as compute_clients
from compute.conf import availability_zones as az_opts
from compute.conf import compute as compute_opts
from compute.conf import conductor as conductor_opts
from compute.conf import console as console_opts
from compute.conf import metadata as metadata_opts
from compute.conf import node as node_opts
from compute.conf import virt as virt_opts
from compute.scheduler import opts as scheduler_opts

API_PORT = 8774


def register_opts(conf: cfg.ConfigOpts) -> None:
    common_conf.register_opts(conf, api_port=API_PORT)
    compute_opts.register_opts(conf)
    compute_clients.register_opts(conf)
    az_opts.register_opts(conf)
    conductor_opts.register_opts(conf)
    node_opts.register_opts(conf)
    console_opts.register_opts(conf)
    metadata_opts.register_opts(conf)
    scheduler_opts.register_opts(conf)
    virt_opts.register_opts(conf)
