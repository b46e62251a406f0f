"""Entry point for oslo-config-generator."""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from compute.conf import API_PORT
from compute.conf import compute as compute_opts
from compute.conf import virt as virt_opts
from compute.scheduler import opts as scheduler_opts


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [*common_conf.list_opts(API_PORT), *compute_opts.list_opts(),
            *scheduler_opts.list_opts(), *virt_opts.list_opts()]
