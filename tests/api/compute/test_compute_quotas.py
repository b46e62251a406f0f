"""os-quota-sets (show, defaults, detail, update with force and user_id, delete),
os-quota-class-sets and /limits, with the keys of each microversion (2.36, 2.39,
2.50, 2.57)."""
from __future__ import annotations

from typing import Any

import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_instance
from compute_api_helpers import project

# The helpers' fixtures, used by name.
db, latest, mv = helpers.db, helpers.latest, helpers.mv

SERVICE_CONF = {"quota": {"instances": 10, "cores": 20, "ram": 51200}}
AT_21 = {"instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items",
         "injected_files", "injected_file_content_bytes", "injected_file_path_bytes",
         "key_pairs", "security_groups", "security_group_rules", "server_groups",
         "server_group_members"}
NETWORK = {"floating_ips", "fixed_ips", "security_groups", "security_group_rules"}
INJECTED = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}
MEMBER = "member,reader"


def _quotas(mv: MvApi, p: str, suffix: str = "", version: str = "2.1",
            **kwargs: Any) -> dict[str, Any]:
    return dict(mv.at(version, "GET", "/v2.1/os-quota-sets/%s%s" % (p, suffix),
                      status=200, **kwargs).json["quota_set"])


def test_show_defaults_and_keys_per_version(mv: MvApi) -> None:
    p = project()
    own = {"project_id": p, "roles": MEMBER}
    shown = _quotas(mv, p, **own)
    assert set(shown) == AT_21 | {"id"} and shown["id"] == p
    assert shown["instances"] == 10 and shown["injected_file_path_bytes"] == 255
    assert shown["fixed_ips"] == -1 and shown["floating_ips"] == 10
    assert _quotas(mv, p, "/defaults", **own) == shown
    assert _quotas(mv, p, "?user_id=someone", **own) == shown
    assert set(_quotas(mv, p, version="2.36")) == (AT_21 - NETWORK) | {"id"}
    assert set(_quotas(mv, p, version="2.57")) == (AT_21 - NETWORK - INJECTED) | {"id"}
    # Another project's quotas are not a member's to see; the defaults are.
    mv.at("2.1", "GET", "/v2.1/os-quota-sets/" + p, project(), roles=MEMBER, status=403)
    mv.at("2.1", "GET", "/v2.1/os-quota-sets/%s/defaults" % p, project(), roles=MEMBER,
          status=200)


def test_detail_counts_usage(mv: MvApi, db: Any) -> None:
    p = project()
    add_instance(db, p)
    detail = _quotas(mv, p, "/detail", project_id=p, roles=MEMBER)
    assert set(detail) == AT_21 | {"id"}
    assert detail["instances"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert detail["cores"]["in_use"] == 1 and detail["ram"]["in_use"] == 128
    assert detail["floating_ips"] == {"limit": 10, "in_use": 0, "reserved": 0}


def test_update_and_delete(mv: MvApi, db: Any) -> None:
    p = project()
    resp = mv.at("2.1", "PUT", "/v2.1/os-quota-sets/" + p, status=200,
                 json_body={"quota_set": {"ram": "5120", "injected_file_path_bytes": 512,
                                          "security_groups": 20}})
    updated = resp.json["quota_set"]
    assert set(updated) == AT_21
    assert updated["ram"] == 5120 and updated["injected_file_path_bytes"] == 512
    assert updated["security_groups"] == 20
    assert _quotas(mv, p)["ram"] == 5120
    # A user's own limits, within the project's.
    mv.at("2.1", "PUT", "/v2.1/os-quota-sets/%s?user_id=u1" % p, status=200,
          json_body={"quota_set": {"ram": 2048}})
    assert _quotas(mv, p, "?user_id=u1")["ram"] == 2048
    assert _quotas(mv, p)["ram"] == 5120
    mv.at("2.1", "PUT", "/v2.1/os-quota-sets/%s?user_id=u1" % p, status=400,
          json_body={"quota_set": {"ram": 9999}})
    # Below what is in use: refused unless forced.
    add_instance(db, p)
    add_instance(db, p)
    mv.at("2.1", "PUT", "/v2.1/os-quota-sets/" + p, status=400,
          json_body={"quota_set": {"instances": 1}})
    mv.at("2.1", "PUT", "/v2.1/os-quota-sets/" + p, status=200,
          json_body={"quota_set": {"instances": 1, "force": True}})
    assert _quotas(mv, p)["instances"] == 1
    mv.at("2.1", "DELETE", "/v2.1/os-quota-sets/" + p, status=202)
    shown = _quotas(mv, p)
    assert shown["ram"] == 51200 and shown["instances"] == 10
    assert _quotas(mv, p, "?user_id=u1")["ram"] == 51200


def test_update_bad_input_and_policy(mv: MvApi) -> None:
    p = project()
    url = "/v2.1/os-quota-sets/" + p
    for bad in ({"quota_set": {"ram": -2}}, {"quota_set": {"ram": "lots"}},
                {"quota_set": {"bogus": 1}}, {"quota_set": {"ram": 2 ** 31}},
                {"quota": {"ram": 1}}, {"quota_set": {"ram": 1.5}}):
        mv.at("2.1", "PUT", url, json_body=bad, status=400)
    mv.at("2.36", "PUT", url, json_body={"quota_set": {"floating_ips": 1}}, status=400)
    mv.at("2.57", "PUT", url, json_body={"quota_set": {"injected_files": 1}}, status=400)
    resp = mv.at("2.57", "PUT", url, json_body={"quota_set": {"cores": 4}}, status=200)
    assert set(resp.json["quota_set"]) == AT_21 - NETWORK - INJECTED
    mv.at("2.1", "PUT", url, p, roles=MEMBER, json_body={"quota_set": {"ram": 1}},
          status=403)
    mv.at("2.1", "DELETE", url, p, roles=MEMBER, status=403)


def test_quota_class_sets(mv: MvApi) -> None:
    shown = mv.at("2.1", "GET", "/v2.1/os-quota-class-sets/default",
                  status=200).json["quota_class_set"]
    assert set(shown) == (AT_21 - {"server_groups", "server_group_members"}) | {"id"}
    assert shown["id"] == "default"
    at250 = mv.at("2.50", "GET", "/v2.1/os-quota-class-sets/default",
                  status=200).json["quota_class_set"]
    assert set(at250) == (AT_21 - NETWORK) | {"id"}
    at257 = mv.at("2.57", "GET", "/v2.1/os-quota-class-sets/default",
                  status=200).json["quota_class_set"]
    assert set(at257) == (AT_21 - NETWORK - INJECTED) | {"id"}
    resp = mv.at("2.1", "PUT", "/v2.1/os-quota-class-sets/default", status=200,
                 json_body={"quota_class_set": {"metadata_items": 200}})
    assert resp.json["quota_class_set"]["metadata_items"] == 200
    assert "id" not in resp.json["quota_class_set"]
    # The default class is the defaults of every project.
    assert _quotas(mv, project())["metadata_items"] == 200
    mv.at("2.1", "PUT", "/v2.1/os-quota-class-sets/default", status=200,
          json_body={"quota_class_set": {"metadata_items": 128}})
    mv.at("2.1", "PUT", "/v2.1/os-quota-class-sets/default", status=400,
          json_body={"quota_class_set": {"nope": 1}})
    mv.at("2.1", "GET", "/v2.1/os-quota-class-sets/default", project(), roles=MEMBER,
          status=403)


def test_limits(mv: MvApi, db: Any) -> None:
    p = project()
    add_instance(db, p)
    absolute = mv.at("2.1", "GET", "/v2.1/limits", p, roles=MEMBER,
                     status=200).json["limits"]
    assert absolute["rate"] == []
    limits = absolute["absolute"]
    assert set(limits) == {
        "maxServerMeta", "maxPersonality", "maxPersonalitySize", "maxImageMeta",
        "maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxTotalKeypairs",
        "maxServerGroups", "maxServerGroupMembers", "totalInstancesUsed", "totalCoresUsed",
        "totalRAMUsed", "totalServerGroupsUsed", "maxTotalFloatingIps", "maxSecurityGroups",
        "maxSecurityGroupRules", "totalFloatingIpsUsed", "totalSecurityGroupsUsed"}
    assert limits["totalInstancesUsed"] == 1 and limits["totalRAMUsed"] == 128
    assert limits["maxTotalInstances"] == 10
    at236 = mv.at("2.36", "GET", "/v2.1/limits", p, roles=MEMBER).json["limits"]["absolute"]
    assert "maxTotalFloatingIps" not in at236 and "maxImageMeta" in at236
    at239 = mv.at("2.39", "GET", "/v2.1/limits", p, roles=MEMBER).json["limits"]["absolute"]
    assert "maxImageMeta" not in at239 and "maxPersonality" in at239
    at257 = mv.at("2.57", "GET", "/v2.1/limits", p, roles=MEMBER).json["limits"]["absolute"]
    assert "maxPersonality" not in at257 and "maxPersonalitySize" not in at257
    # Another project's limits are for admins.
    mv.at("2.1", "GET", "/v2.1/limits?tenant_id=" + p, project(), roles=MEMBER, status=403)
    other = mv.at("2.1", "GET", "/v2.1/limits?tenant_id=" + p, status=200).json
    assert other["limits"]["absolute"]["totalInstancesUsed"] == 1
