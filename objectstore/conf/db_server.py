"""[account_server] and [container_server]: the two SQLite database servers."""
from __future__ import annotations

from oslo_config import cfg


def _server_opts(port: int) -> list[cfg.Opt]:
    return [
        cfg.HostAddressOpt("bind_host", default="0.0.0.0",
                           help="Address the server listens on."),
        cfg.PortOpt("bind_port", default=port, help="Port the server listens on."),
        cfg.IntOpt("threads", default=32, min=1,
                   help="Worker threads (requests served at once)."),
        cfg.FloatOpt("db_busy_timeout", default=25.0, min=0.1,
                     help="Seconds a request waits for another writer of the same "
                          "database before it fails with 500."),
        cfg.IntOpt("db_cached_connections", default=64, min=0,
                   help="Open database connections kept between requests (idle ones, "
                        "in all), so a request on a recently used database does not "
                        "open and close its SQLite file again. 0: one connection per "
                        "request."),
    ]


ACCOUNT_OPTS: list[cfg.Opt] = _server_opts(6202)

CONTAINER_OPTS: list[cfg.Opt] = _server_opts(6201) + [
    cfg.FloatOpt("account_update_interval", default=1.0, min=0.0,
                 help="After object rows change, the container server reports the new "
                      "counts to the account in the background, at most once per this "
                      "many seconds per container. 0 disables these reports (the "
                      "container updater then catches up)."),
    cfg.FloatOpt("account_update_conn_timeout", default=0.5, min=0.01,
                 help="Seconds to wait for a connection to an account server."),
    cfg.FloatOpt("account_update_node_timeout", default=3.0, min=0.01,
                 help="Seconds to wait for an account server's answer to a report."),
]

ACCOUNT_GROUP = "account_server"
CONTAINER_GROUP = "container_server"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(ACCOUNT_OPTS, group=ACCOUNT_GROUP)
    conf.register_opts(CONTAINER_OPTS, group=CONTAINER_GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(ACCOUNT_GROUP, ACCOUNT_OPTS), (CONTAINER_GROUP, CONTAINER_OPTS)]
