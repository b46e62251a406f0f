"""Version discovery, /v2.0 resources and extensions."""
from __future__ import annotations

from network_api_helpers import Api, error_type, project


def test_versions_are_public(api: Api) -> None:
    body = api.call("GET", "/", None, status=200).json
    assert body["versions"][0]["id"] == "v2.0"
    assert body["versions"][0]["status"] == "CURRENT"
    assert body["versions"][0]["links"][0]["href"].endswith("/v2.0/")


def test_v2_lists_resources(api: Api) -> None:
    body = api.call("GET", "/v2.0", project(), status=200).json
    names = {r["collection"] for r in body["resources"]}
    assert {"networks", "subnets", "subnetpools", "ports", "routers", "floatingips",
            "security_groups", "security_group_rules", "agents"} <= names
    for res in body["resources"]:
        assert res["links"][0]["rel"] == "self"


def test_token_required(api: Api) -> None:
    resp = api.call("GET", "/v2.0/networks", None, status=401)
    assert resp.json["NeutronError"]["message"]


def test_extensions(api: Api) -> None:
    exts = api.call("GET", "/v2.0/extensions", project(), status=200).json["extensions"]
    aliases = {e["alias"] for e in exts}
    for alias in ("router", "ext-gw-mode", "external-net", "security-group", "port-security",
                  "allowed-address-pairs", "extra_dhcp_opt", "binding", "provider", "quotas",
                  "agent", "dhcp_agent_scheduler", "l3_agent_scheduler",
                  "standard-attr-description", "standard-attr-timestamp",
                  "standard-attr-revisions", "project-id", "net-mtu", "subnet_allocation"):
        assert alias in aliases
    for ext in exts:
        assert set(ext) == {"alias", "name", "description", "updated", "links"}
        one = api.call("GET", "/v2.0/extensions/" + ext["alias"], project(),
                       status=200).json["extension"]
        assert one == ext
    resp = api.call("GET", "/v2.0/extensions/dns-integration", project(), status=404)
    assert error_type(resp) == "ExtensionNotFound"


def test_unknown_path_is_404(api: Api) -> None:
    api.call("GET", "/v2.0/nothing-here", project(), status=404)


def test_method_not_allowed(api: Api) -> None:
    api.call("PATCH", "/v2.0/networks", project(), status=405)
