"""Options of stratus-network-metadata-agent (``[metadata]``), some shared with the
L3 agent (which points its per-router proxies at the same socket)."""
from __future__ import annotations

from oslo_config import cfg

from network.agents import service as agent_service

SOCKET_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("metadata_proxy_socket", default="$state_path/metadata_proxy",
               help="UNIX socket the metadata agent listens on; the per-router (and "
                    "per-network) metadata proxies forward to it."),
]

METADATA_OPTS: list[cfg.Opt] = [
    cfg.HostAddressOpt("nova_metadata_host", default="127.0.0.1",
                       help="Host of the compute metadata API (stratus-compute-metadata)."),
    cfg.PortOpt("nova_metadata_port", default=8775,
                help="TCP port of the compute metadata API."),
    cfg.StrOpt("nova_metadata_protocol", default="http", choices=["http", "https"],
               help="Protocol of the compute metadata API."),
    cfg.BoolOpt("nova_metadata_insecure", default=False,
                help="With https: do not verify the compute metadata API's certificate."),
    cfg.StrOpt("auth_ca_cert", help="With https: CA bundle to verify the compute "
                                    "metadata API's certificate with."),
    cfg.StrOpt("metadata_proxy_shared_secret", default="", secret=True,
               help="Secret shared with the compute metadata API: requests carry "
                    "X-Instance-ID-Signature, the HMAC-SHA256 (hex) of the instance id "
                    "under this secret."),
    cfg.FloatOpt("nova_metadata_timeout", default=30.0, min=0.1,
                 help="Seconds to wait for the compute metadata API."),
    cfg.IntOpt("metadata_backlog", default=128, min=1,
               help="Backlog of the UNIX socket."),
]


def register_socket_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[metadata] metadata_proxy_socket`` (the L3 agent needs it too)."""
    conf.register_opts(SOCKET_OPTS, group="metadata")


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[metadata]`` and ``[agent] report_interval`` (idempotent)."""
    register_socket_opts(conf)
    conf.register_opts(METADATA_OPTS, group="metadata")
    agent_service.register_report_opts(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [("metadata", SOCKET_OPTS + METADATA_OPTS), ("agent", agent_service.REPORT_OPTS)]
