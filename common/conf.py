"""Options every service shares: state path, host, database, API listener."""
from __future__ import annotations

import socket

from oslo_config import cfg

DEFAULT_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("state_path", default="/var/lib/stratus",
               help="Directory where Stratus keeps its state (SQLite files, keys, data)."),
    cfg.StrOpt("host", default=socket.gethostname(), sample_default="<hostname>",
               help="Name of this host as other daemons and the APIs report it."),
]

DATABASE_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("connection", secret=True,
               help="SQLAlchemy URL of this service's database. Possible values: "
                    "sqlite:////path/file.sqlite, postgresql+psycopg2://user@host/db, "
                    "mysql+pymysql://user:pass@host/db. Unset means an SQLite file "
                    "named after the service under [DEFAULT] state_path."),
    cfg.IntOpt("max_pool_size", default=10, min=1,
               help="Largest number of pooled connections (server databases only)."),
    cfg.IntOpt("sqlite_busy_timeout", default=15000, min=0,
               help="Milliseconds an SQLite writer waits for a lock before failing."),
    cfg.BoolOpt("connection_debug", default=False, help="Log every SQL statement."),
]


def api_opts(default_port: int) -> list[cfg.Opt]:
    return [
        cfg.HostAddressOpt("bind_host", default="0.0.0.0",
                           help="Address the API listens on."),
        cfg.PortOpt("bind_port", default=default_port, help="Port the API listens on."),
        cfg.IntOpt("threads", default=16, min=1,
                   help="Worker threads of the API server (requests served at once)."),
        cfg.IntOpt("max_request_body_size", default=114688, min=1,
                   help="Largest request body accepted, in bytes."),
        cfg.StrOpt("public_endpoint",
                   help="Base URL clients use to reach this API, for links and "
                        "version documents. Unset means the request's Host header."),
        cfg.StrOpt("api_paste_config", default="api-paste.ini",
                   help="PasteDeploy file of the API pipeline (found next to the "
                        "config file when relative)."),
    ]


def register_opts(conf: cfg.ConfigOpts, api_port: int | None = None) -> None:
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(DATABASE_OPTS, group="database")
    if api_port is not None:
        conf.register_opts(api_opts(api_port), group="api")


def list_opts(api_port: int | None = None) -> list[tuple[str | None, list[cfg.Opt]]]:
    opts: list[tuple[str | None, list[cfg.Opt]]] = [
        (None, DEFAULT_OPTS), ("database", DATABASE_OPTS)]
    if api_port is not None:
        opts.append(("api", api_opts(api_port)))
    return opts
