"""[token] and [fernet_tokens] options."""
from __future__ import annotations

from oslo_config import cfg

OPTS: list[cfg.Opt] = [
    cfg.IntOpt("expiration", default=3600, min=60,
               help="Lifetime of a token, in seconds."),
    cfg.IntOpt("allow_expired_window", default=172800, min=0,
               help="Seconds after expiry during which a service may still validate a "
                    "token with allow_expired=true."),
    cfg.IntOpt("revocation_cache_time", default=1, min=0,
               help="Seconds the revocation list is kept in memory before it is read "
                    "again from the database."),
]

FERNET_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("key_repository", default="$state_path/fernet-keys",
               help="Directory holding the token keys (0 is staged, the highest "
                    "number is primary)."),
    cfg.IntOpt("max_active_keys", default=3, min=2,
               help="Keys kept by fernet-rotate, staged and primary included."),
]


CREDENTIAL_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("key_repository", default="$state_path/credential-keys",
               help="Directory holding the keys that encrypt credential blobs (made by "
                    "fernet-setup; rotate with credential-rotate, which re-encrypts)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="token")
    conf.register_opts(FERNET_OPTS, group="fernet_tokens")
    conf.register_opts(CREDENTIAL_OPTS, group="credential")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("token", OPTS), ("fernet_tokens", FERNET_OPTS), ("credential", CREDENTIAL_OPTS)]
