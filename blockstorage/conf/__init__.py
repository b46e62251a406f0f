"""Block storage options: one config file (blockstorage.conf) read by every daemon.

Each part owns the module that declares its options (``api``, ``scheduler``,
``volume``, ``backup``, ``clients``); ``common`` holds the shared ones. This
module only gathers them, with the options of ``common/`` every daemon needs
([database], [api] on port 8776, oslo.messaging, [DEFAULT] report_interval).
"""
from __future__ import annotations

from keystonemiddleware import auth_token  # noqa: F401  (registers [keystone_authtoken])
from oslo_config import cfg

from common import conf as common_conf
from common import rpc
from common import rpc_service
from blockstorage.conf import api, backup, clients, scheduler, volume
from blockstorage.conf import common as bs_common

API_PORT = 8776
_MODULES = (bs_common, api, scheduler, volume, backup, clients)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every block storage option on ``conf`` (safe to call twice)."""
    common_conf.register_opts(conf, api_port=API_PORT)
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    for module in _MODULES:
        module.register_opts(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every block storage option, for oslo-config-generator."""
    opts = common_conf.list_opts(API_PORT)
    opts.extend(rpc_service.list_opts())
    opts.extend(rpc.list_opts())
    for module in _MODULES:
        opts.extend(module.list_opts())
    return opts
