"""Entry point for oslo-config-generator."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from common import rpc_service
from network.clients import compute as compute_client
from network.conf import API_PORT
from network.conf import network as network_opts


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [*common_conf.list_opts(API_PORT), *rpc_service.list_opts(),
            *network_opts.list_opts(), *compute_client.list_opts()]
