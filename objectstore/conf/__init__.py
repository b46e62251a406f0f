"""Object store options: one config file (objectstore.conf) read by every daemon.

Each part owns the module that declares its options; this module only gathers them.
"""
from __future__ import annotations

from oslo_config import cfg

from common import conf as common_conf
from objectstore.common import constraints
from objectstore.conf import daemons, db_server, object_server, objectstore, proxy

PROXY_PORT = 8080
_MODULES = (objectstore, constraints, proxy, object_server, db_server, daemons)


def register_opts(conf: cfg.ConfigOpts) -> None:
    common_conf.register_opts(conf, api_port=PROXY_PORT)
    for module in _MODULES:
        module.register_opts(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    opts = common_conf.list_opts(PROXY_PORT)
    for module in _MODULES:
        opts.extend(module.list_opts())
    return opts
