"""Remote consoles: os-getVNCConsole (before 2.6) and remote-consoles (2.6+) hand out
a noVNC URL whose token the proxy accepts for the guest's VNC endpoint."""
from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from compute_api_helpers import Api, project

from compute import states
from compute.console import tokens
from tests.fixtures import compute as fx


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _token(url: str) -> str:
    path = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["path"][0]
    return urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["token"][0]


def test_remote_console_gives_a_novnc_url_with_a_working_token(fakes: fx.Servers,
                                                               service: Any) -> None:
    p = project()
    instance = fakes.active(p)
    resp = fakes.call("POST", "/servers/%s/remote-consoles" % instance["uuid"], p,
                      version="2.6", status=200,
                      json_body={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    console = resp.json["remote_console"]
    assert console["protocol"] == "vnc" and console["type"] == "novnc"
    assert console["url"].startswith("http://127.0.0.1:6080/vnc_lite.html?path=")
    found = tokens.ConsoleTokens(fx.app_of(service).db).validate(_token(console["url"]))
    assert (found["host"], found["port"], found["instance_uuid"]) == (
        "192.0.2.10", 5901, instance["uuid"])


def test_get_vnc_console_action_before_2_6(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    resp = fakes.call("POST", "/servers/%s/action" % instance["uuid"], p, version="2.1",
                      status=200, json_body={"os-getVNCConsole": {"type": "novnc"}})
    assert resp.json["console"]["type"] == "novnc" and "token%3D" in resp.json["console"]["url"]
    fakes.call("POST", "/servers/%s/action" % instance["uuid"], p, version="2.6",
               status=400, json_body={"os-getVNCConsole": {"type": "novnc"}})


def test_console_bad_input_and_states(fakes: fx.Servers) -> None:
    p = project()
    instance = fakes.active(p)
    url = "/servers/%s/remote-consoles" % instance["uuid"]
    for body in ({}, {"remote_console": {"protocol": "vnc"}},
                 {"remote_console": {"protocol": "vnc", "type": "bogus"}},
                 {"remote_console": {"protocol": "spice", "type": "spice-html5"}},
                 {"remote_console": {"protocol": "vnc", "type": "novnc", "x": 1}}):
        fakes.call("POST", url, p, version="2.6", status=400, json_body=body)
    fakes.call("POST", url, p, version="2.5", status=404,
               json_body={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    fakes.call("POST", url, project(), version="2.6", status=404,
               json_body={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    fakes.set(instance["uuid"], vm_state=states.STOPPED)
    fakes.call("POST", url, p, version="2.6", status=409,
               json_body={"remote_console": {"protocol": "vnc", "type": "novnc"}})
