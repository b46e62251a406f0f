"""Remote consoles of servers: the API asks the server's node where its VNC
server listens, stores a one-time token for that endpoint and hands the user
the noVNC proxy's URL with the token (``[vnc] novncproxy_base_url``)."""
from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from compute import exception
from compute import rpcapi
from compute import servers
from compute import states
from compute.console import tokens

LOG = logging.getLogger(__name__)
# (protocol, type) pairs Nova's remote-consoles API knows; only noVNC is served here.
KNOWN = {("vnc", "novnc"), ("vnc", "xvpvnc"), ("spice", "spice-html5"), ("rdp", "rdp-html5"),
         ("serial", "serial"), ("mks", "webmks")}
SUPPORTED = {("vnc", "novnc")}


class ConsoleService:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.tokens = tokens.ConsoleTokens(db)

    def get_console(self, ctxt: Any, instance: Mapping[str, Any], protocol: str,
                    console_type: str) -> dict[str, Any]:
        """``{"protocol", "type", "url"}`` of a running server's console.

        :raises: ConsoleTypeInvalid / ConsoleProtocolInvalid (400) for unknown
            names, ConsoleTypeUnavailableForServer (400) for consoles this cloud
            does not serve, InstanceNotReady (409) unless the server runs on a host,
            ComputeServiceUnavailable (503) when its node does not answer.
        """
        if protocol not in {p for p, _ in KNOWN}:
            raise exception.ConsoleProtocolInvalid(protocol=protocol)
        if (protocol, console_type) not in KNOWN:
            raise exception.ConsoleTypeInvalid(console_type=console_type)
        if (protocol, console_type) not in SUPPORTED or not self.conf.vnc.enabled:
            raise exception.ConsoleTypeUnavailableForServer(console_type=console_type)
        host = instance.get("host")
        if not host or instance.get("vm_state") not in (states.ACTIVE, states.PAUSED,
                                                         states.RESCUED, states.RESIZED):
            raise exception.InstanceNotReady(instance_id=instance["uuid"])
        endpoint = servers.call_node(
            "VNC console", instance["uuid"], str(host),
            lambda: rpcapi.ComputeNodeAPI().get_vnc_console(ctxt, str(host), instance["uuid"]))
        base = str(self.conf.vnc.novncproxy_base_url)
        token = self.tokens.create(instance["uuid"], console_type, str(endpoint["host"]),
                                   int(endpoint["port"]), base,
                                   int(self.conf.consoleauth.token_ttl))
        path = urllib.parse.quote("?token=%s" % token, safe="")
        separator = "&" if "?" in base else "?"
        return {"protocol": protocol, "type": console_type,
                "url": "%s%spath=%s" % (base, separator, path)}
