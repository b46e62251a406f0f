"""Entry point for oslo-config-generator."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from compute import clients as compute_clients
from compute.conf import API_PORT
from compute.conf import availability_zones as az_opts
from compute.conf import compute as compute_opts
from compute.conf import conductor as conductor_opts
from compute.conf import console as console_opts
from compute.conf import metadata as metadata_opts
from compute.conf import node as node_opts
from compute.conf import virt as virt_opts
from compute.scheduler import opts as scheduler_opts


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [*common_conf.list_opts(API_PORT), *compute_opts.list_opts(),
            *compute_clients.list_opts(), *az_opts.list_opts(),
            *conductor_opts.list_opts(), *node_opts.list_opts(), *console_opts.list_opts(),
            *metadata_opts.list_opts(),
            *scheduler_opts.list_opts(), *virt_opts.list_opts()]
