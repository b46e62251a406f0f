"""os-keypairs after 2.1: ``type`` (ssh, x509) with 201/204 from 2.2, and an admin
acting on another user's key pairs from 2.10."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from compute_api_helpers import ADMIN, ADMIN_ROLES, Api, message, project

from compute import keypairs

URL = "/v2.1/os-keypairs"


def _at(api: Api, version: str, method: str, path: str, project_id: str,
        **kwargs: Any) -> Any:
    headers = {"X-OpenStack-Nova-API-Version": version}
    return api.call(method, path, project_id, headers=headers, **kwargs)


def _name() -> str:
    return "k-" + uuid.uuid4().hex[:8]


def test_type_and_status_codes_from_22(api: Api) -> None:
    p, name = project(), _name()
    created = _at(api, "2.2", "POST", URL, p, status=201,
                  json_body={"keypair": {"name": name}}).json["keypair"]
    assert created["type"] == "ssh" and created["private_key"].startswith("-----BEGIN")
    shown = _at(api, "2.2", "GET", URL + "/" + name, p, status=200).json["keypair"]
    assert shown["type"] == "ssh"
    listed = _at(api, "2.2", "GET", URL, p, status=200).json["keypairs"]
    assert listed[0]["keypair"]["type"] == "ssh"
    # At 2.1 there is no type (and the body may not name one).
    assert "type" not in api.call("GET", URL + "/" + name, p, status=200).json["keypair"]
    api.call("POST", URL, p, status=400,
             json_body={"keypair": {"name": _name(), "type": "ssh"}})
    _at(api, "2.2", "DELETE", URL + "/" + name, p, status=204)
    _at(api, "2.2", "POST", URL, p, status=400,
        json_body={"keypair": {"name": _name(), "type": "pgp"}})


def test_x509_key_pairs(api: Api) -> None:
    p, name = project(), _name()
    created = _at(api, "2.2", "POST", URL, p, status=201,
                  json_body={"keypair": {"name": name, "type": "x509"}}).json["keypair"]
    assert created["type"] == "x509"
    assert created["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert created["fingerprint"] == keypairs.x509_fingerprint(created["public_key"])
    assert len(created["fingerprint"].split(":")) == 20
    imported = _at(api, "2.2", "POST", URL, p, status=201, json_body={"keypair": {
        "name": _name(), "type": "x509", "public_key": created["public_key"]}})
    assert imported.json["keypair"]["fingerprint"] == created["fingerprint"]
    resp = _at(api, "2.2", "POST", URL, p, status=400, json_body={"keypair": {
        "name": _name(), "type": "x509", "public_key": "ssh-rsa AAAA"}})
    assert "X509" in message(resp)


def test_admin_names_the_user_from_210(api: Api) -> None:
    p, name = project(), _name()
    user = "user-" + p

    def admin(version: str, method: str, path: str, **kwargs: Any) -> Any:
        return _at(api, version, method, path, ADMIN, roles=ADMIN_ROLES, **kwargs)

    created = admin("2.10", "POST", URL, status=201, json_body={"keypair": {
        "name": name, "user_id": user}}).json["keypair"]
    assert created["user_id"] == user
    assert [k["keypair"]["name"] for k in
            api.call("GET", URL, p, status=200).json["keypairs"]] == [name]
    assert admin("2.10", "GET", URL + "?user_id=" + user, status=200).json["keypairs"]
    admin("2.10", "GET", "%s/%s?user_id=%s" % (URL, name, user), status=200)
    # Before 2.10 user_id means nothing; the admin sees its own key pairs.
    admin("2.9", "GET", "%s/%s?user_id=%s" % (URL, name, user), status=404)
    admin("2.9", "POST", URL, status=400, json_body={"keypair": {"name": _name(),
                                                                 "user_id": user}})
    # A user cannot name another one.
    _at(api, "2.10", "GET", URL + "?user_id=someone-else", p, status=403)
    _at(api, "2.10", "POST", URL, p, status=403, json_body={"keypair": {
        "name": _name(), "user_id": "someone-else"}})
    admin("2.10", "DELETE", "%s/%s?user_id=%s" % (URL, name, user), status=204)
    api.call("GET", URL + "/" + name, p, status=404)


@pytest.mark.parametrize("version,create,delete", [("2.1", 200, 202), ("2.26", 201, 204)])
def test_status_codes(api: Api, version: str, create: int, delete: int) -> None:
    p, name = project(), _name()
    _at(api, version, "POST", URL, p, status=create, json_body={"keypair": {"name": name}})
    _at(api, version, "DELETE", URL + "/" + name, p, status=delete)
