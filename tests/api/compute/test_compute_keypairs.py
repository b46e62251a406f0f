"""os-keypairs at 2.1: import, generate, list, show, delete; per user."""
from __future__ import annotations

import uuid

import pytest
from compute_api_helpers import Api, message, project
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from compute import ssh_keys

SERVICE_CONF = {"quota": {"key_pairs": 3}}


def _ed25519() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode() + " me@host"


def _rsa() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def _name() -> str:
    return "k-" + uuid.uuid4().hex[:8]


@pytest.mark.parametrize("make", [_ed25519, _rsa])
def test_import_show_list_delete(api: Api, make: object) -> None:
    p, name = project(), _name()
    public = make()  # type: ignore[operator]
    resp = api.call("POST", "/v2.1/os-keypairs", p, status=200,
                    json_body={"keypair": {"name": name, "public_key": public}})
    created = resp.json["keypair"]
    assert created == {"name": name, "public_key": public, "user_id": "user-" + p,
                       "fingerprint": ssh_keys.fingerprint(public)}
    shown = api.call("GET", "/v2.1/os-keypairs/" + name, p, status=200).json["keypair"]
    assert set(shown) == {"name", "public_key", "fingerprint", "user_id", "id", "created_at",
                          "updated_at", "deleted", "deleted_at"}
    assert shown["deleted"] is False and shown["fingerprint"] == created["fingerprint"]
    listed = api.call("GET", "/v2.1/os-keypairs", p, status=200).json
    assert listed == {"keypairs": [{"keypair": {"name": name, "public_key": public,
                                                "fingerprint": created["fingerprint"]}}]}
    api.call("DELETE", "/v2.1/os-keypairs/" + name, p, status=202)
    resp = api.call("GET", "/v2.1/os-keypairs/" + name, p, status=404)
    assert message(resp) == "Keypair %s not found for user user-%s" % (name, p)
    api.call("DELETE", "/v2.1/os-keypairs/" + name, p, status=404)


def test_generate(api: Api) -> None:
    p, name = project(), _name()
    created = api.call("POST", "/v2.1/os-keypairs", p, status=200,
                       json_body={"keypair": {"name": name}}).json["keypair"]
    assert created["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert created["public_key"].startswith("ssh-rsa ")
    assert created["fingerprint"] == ssh_keys.fingerprint(created["public_key"])
    private = serialization.load_pem_private_key(created["private_key"].encode(), None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert created["public_key"].startswith(public)
    shown = api.call("GET", "/v2.1/os-keypairs/" + name, p, status=200).json["keypair"]
    assert "private_key" not in shown


def test_keypairs_belong_to_their_user(api: Api) -> None:
    p, name = project(), _name()
    api.call("POST", "/v2.1/os-keypairs", p, user="alice", status=200,
             json_body={"keypair": {"name": name, "public_key": _ed25519()}})
    api.call("GET", "/v2.1/os-keypairs/" + name, p, user="bob", status=404)
    api.call("DELETE", "/v2.1/os-keypairs/" + name, p, user="bob", status=404)
    assert api.call("GET", "/v2.1/os-keypairs", p, user="bob").json == {"keypairs": []}
    # Another user may use the same name.
    api.call("POST", "/v2.1/os-keypairs", p, user="bob", status=200,
             json_body={"keypair": {"name": name, "public_key": _ed25519()}})
    api.call("GET", "/v2.1/os-keypairs/" + name, p, user="alice", status=200)


def test_duplicate_name_conflicts(api: Api) -> None:
    p, name = project(), _name()
    body = {"keypair": {"name": name, "public_key": _ed25519()}}
    api.call("POST", "/v2.1/os-keypairs", p, json_body=body, status=200)
    resp = api.call("POST", "/v2.1/os-keypairs", p, json_body=body, status=409)
    assert message(resp) == "Key pair '%s' already exists." % name
    api.call("POST", "/v2.1/os-keypairs", p, json_body={"keypair": {"name": name}},
             status=409)


def test_quota(api: Api) -> None:
    p = project()
    for _ in range(3):
        api.call("POST", "/v2.1/os-keypairs", p, status=200,
                 json_body={"keypair": {"name": _name(), "public_key": _ed25519()}})
    resp = api.call("POST", "/v2.1/os-keypairs", p, status=403,
                    json_body={"keypair": {"name": _name(), "public_key": _ed25519()}})
    assert "too many key pairs" in message(resp)
    api.call("POST", "/v2.1/os-keypairs", p, status=403, json_body={"keypair": {"name": "g"}})


def test_reader_reads_but_does_not_write(api: Api) -> None:
    p = project()
    api.call("GET", "/v2.1/os-keypairs", p, roles="reader", status=200)
    api.call("POST", "/v2.1/os-keypairs", p, roles="reader", status=403,
             json_body={"keypair": {"name": _name(), "public_key": _ed25519()}})
    api.call("DELETE", "/v2.1/os-keypairs/x", p, roles="reader", status=403)
    api.call("GET", "/v2.1/os-keypairs", p, roles="other", status=403)
    api.call("GET", "/v2.1/os-keypairs", None, status=401)


@pytest.mark.parametrize("body", [
    {}, {"keypair": None}, {"keypair": {}}, {"keypair": {"name": ""}},
    {"keypair": {"name": "a" * 256}}, {"keypair": {"name": 5}},
    {"keypair": {"name": "bad/name"}}, {"keypair": {"name": "bad.name"}},
    {"keypair": {"name": " lead"}}, {"keypair": {"name": "k", "public_key": 5}},
    {"keypair": {"name": "k", "public_key": ""}},
    {"keypair": {"name": "k", "public_key": "ssh-rsa not-base64!"}},
    {"keypair": {"name": "k", "public_key": "ssh-rsa AAAA"}},
    {"keypair": {"name": "k", "public_key": "garbage"}},
    {"keypair": {"name": "k", "type": "ssh"}}, {"keypair": {"name": "k", "user_id": "u"}},
    {"keypair": {"name": "k"}, "extra": 1}, ["keypair"],
])
def test_bad_bodies(api: Api, body: object) -> None:
    api.call("POST", "/v2.1/os-keypairs", project(), json_body=body, status=400)


def test_invalid_key_message(api: Api) -> None:
    resp = api.call("POST", "/v2.1/os-keypairs", project(), status=400,
                    json_body={"keypair": {"name": "k", "public_key": "ssh-rsa AAAA"}})
    assert message(resp) == "Keypair data is invalid: failed to generate fingerprint"
    api.call("POST", "/v2.1/os-keypairs", project(), body=b"{",
             headers={"Content-Type": "application/json"}, status=400)
