"""[identity] options: users, passwords, the default domain."""
from __future__ import annotations

from oslo_config import cfg

GROUP = "identity"

OPTS: list[cfg.Opt] = [
    cfg.StrOpt("default_domain_id", default="default",
               help="Domain used for users and projects created without one, and by "
                    "v2-style clients that know no domains."),
    cfg.IntOpt("password_hash_rounds", default=12, min=4, max=31,
               help="bcrypt cost factor (log2 of rounds) for password hashes. Higher "
                    "is slower to attack and slower to authenticate. Related options: "
                    "none; existing hashes keep their own cost."),
    cfg.IntOpt("max_password_length", default=4096, min=1,
               help="Longest password accepted, in bytes (bcrypt uses the first 72)."),
    cfg.IntOpt("list_limit", default=1000, min=1,
               help="Most entities any list call returns."),
    cfg.IntOpt("cache_time", default=2, min=0,
               help="Seconds a token-validation lookup (user, roles, catalog) may be "
                    "served from this process's memory before it is read again. Writes "
                    "made through this process invalidate at once; 0 disables caching."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
