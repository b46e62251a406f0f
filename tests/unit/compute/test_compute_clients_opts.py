"""compute.clients.register_opts/list_opts: the [glance], [neutron] and [cinder]
groups, and the error-message helper the clients share."""
from __future__ import annotations

from typing import Any

from oslo_config import cfg

from compute import clients


def test_groups_registered_and_listed() -> None:
    conf = cfg.ConfigOpts()
    clients.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    listed = dict(clients.list_opts())
    assert set(listed) == {"glance", "neutron", "cinder"}
    for group, opts in listed.items():
        names = {opt.dest for opt in opts}
        assert {"auth_type", "auth_url", "username", "password", "project_name",
                "region_name", "valid_interfaces", "endpoint_override", "service_type",
                "send_service_token", "cafile", "timeout"} <= names
        assert conf[group].auth_type == "password"
        assert conf[group].service_type is None
    assert clients.service_type(conf, "cinder", "volumev3") == "volumev3"
    conf.set_override("service_type", "block-storage", group="cinder")
    assert clients.service_type(conf, "cinder", "volumev3") == "block-storage"


class Resp:
    def __init__(self, status: int, text: str) -> None:
        self.status_code = status
        self.text = text


def test_error_messages_of_every_format() -> None:
    cases: list[tuple[Any, str]] = [
        (Resp(404, '{"itemNotFound": {"code": 404, "message": "Volume x could not be '
                   'found."}}'), "Volume x could not be found."),
        (Resp(409, '{"NeutronError": {"type": "PortInUse", "message": "in use", '
                   '"detail": ""}}'), "in use"),
        (Resp(404, "404 Not Found\n\nNo image found with ID x\n\n   "),
         "No image found with ID x"),
        (Resp(500, ""), "HTTP 500"),
        (Resp(502, "<html>bad gateway</html>"), "<html>bad gateway</html>"),
    ]
    for resp, message in cases:
        assert clients.error_message(resp) == message
    assert clients.error_type(cases[1][0]) == "PortInUse"
    assert clients.error_type(cases[2][0]) == ""
