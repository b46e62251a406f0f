"""Remote console options: ``[vnc]`` (guests' VNC and the noVNC proxy) and
``[consoleauth]`` (console token lifetime)."""
from __future__ import annotations

from oslo_config import cfg

VNC_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("enabled", default=True,
                help="Give guests a VNC console and serve it through the noVNC proxy."),
    cfg.HostAddressOpt("novncproxy_host", default="0.0.0.0",
                       help="Address stratus-compute-novncproxy listens on."),
    cfg.PortOpt("novncproxy_port", default=6080,
                help="Port stratus-compute-novncproxy listens on."),
    cfg.URIOpt("novncproxy_base_url", default="http://127.0.0.1:6080/vnc_lite.html",
               help="The noVNC page users open; the API appends ?path=%%3Ftoken%%3D<token>. "
                    "Related options: novncproxy_host, novncproxy_port."),
    cfg.StrOpt("novnc_path", default="/usr/share/novnc",
               help="Where noVNC's pages are (Debian package novnc)."),
    cfg.ListOpt("allowed_origins", default=[],
                help="Hosts besides the proxy's own that console pages may be served "
                     "from (the websocket's Origin is checked)."),
]

CONSOLEAUTH_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("token_ttl", default=600, min=1,
               help="Seconds a console token stays valid."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(VNC_OPTS, group="vnc")
    conf.register_opts(CONSOLEAUTH_OPTS, group="consoleauth")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("vnc", VNC_OPTS), ("consoleauth", CONSOLEAUTH_OPTS)]
