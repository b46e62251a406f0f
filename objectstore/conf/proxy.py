"""[proxy]: the proxy server's behaviour towards clients and storage nodes."""
from __future__ import annotations

from oslo_config import cfg

OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("account_autocreate", default=True,
                help="Treat a missing account of an authorized user as an empty one, and "
                     "create it on its first container PUT or account POST."),
    cfg.BoolOpt("allow_account_management", default=False,
                help="Allow reseller admins to PUT and DELETE accounts (else 405)."),
    cfg.FloatOpt("conn_timeout", default=0.5, min=0.01,
                 help="Seconds to wait for a TCP connection to a storage node."),
    cfg.FloatOpt("node_timeout", default=10.0, min=0.01,
                 help="Seconds to wait for a storage node's answer to a request."),
    cfg.FloatOpt("recoverable_node_timeout", default=None, min=0.01,
                 help="Seconds to wait for a storage node during a GET/HEAD that may fall "
                      "over to another node (default: node_timeout)."),
    cfg.IntOpt("error_suppression_limit", default=10, min=1,
               help="Errors after which a storage node is skipped for "
                    "error_suppression_interval seconds."),
    cfg.FloatOpt("error_suppression_interval", default=60.0, min=0,
                 help="Seconds an error-limited node is skipped (and over which its errors "
                      "are counted)."),
    # 1 MiB rather than Swift's 64 KiB: fewer, larger reads and sends (a 256 MiB GET
    # cost the proxy 0.5-0.6 instead of 0.8-1.0 ms of CPU per MB,
    # tools/bench/objectstore_bench.py).
    cfg.IntOpt("object_chunk_size", default=1048576, min=1,
               help="Bytes read at a time from a storage node."),
    cfg.IntOpt("client_chunk_size", default=1048576, min=1,
               help="Bytes read at a time from a client's upload (the buffer each upload "
                    "in progress holds)."),
    cfg.IntOpt("recheck_container_existence", default=60, min=0,
               help="Seconds the proxy trusts what it learned about a container (its "
                    "existence, ACLs, CORS settings) before asking again; its own writes "
                    "invalidate the entry at once. 0 disables the cache."),
    cfg.IntOpt("recheck_account_existence", default=60, min=0,
               help="Seconds the proxy answers the account lookups of its filters (quotas, "
                    "tempurl keys, tempauth) from what it learned before; its own writes "
                    "of the account invalidate the entry at once. 0 disables the cache."),
    cfg.IntOpt("max_workers", default=64, min=4,
               help="Threads talking to storage nodes in parallel (for all requests)."),
    cfg.ListOpt("cors_allow_origin", default=[],
                help="Origins allowed for CORS requests on every container, in addition "
                     "to each container's X-Container-Meta-Access-Control-Allow-Origin."),
    cfg.ListOpt("cors_expose_headers", default=[],
                help="Headers exposed to CORS clients on every container, in addition to "
                     "the standard list and the container's own."),
    cfg.BoolOpt("strict_cors_mode", default=True,
                help="Answer CORS requests only for origins the container allows (with "
                     "False, any Origin gets the Access-Control headers)."),
    cfg.BoolOpt("expose_info", default=True, help="Answer GET /info."),
]

GROUP = "proxy"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
