"""[compute_api] and [quota] options of the compute service."""
from __future__ import annotations

from oslo_config import cfg

API_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Most items one list request returns (Nova's [api] max_limit)."),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("key_pairs", default=100, min=-1,
               help="Most key pairs one user may own (-1: no limit)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(API_OPTS, group="compute_api")
    conf.register_opts(QUOTA_OPTS, group="quota")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("compute_api", API_OPTS), ("quota", QUOTA_OPTS)]
