"""Operating the daemon: key rotation while it runs, request ids in its log,
a clean stop on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from typing import Any

from tests.functional.conftest import ADMIN_PASSWORD, IdentityCloud, manage


def _issue(cloud: IdentityCloud) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    req = urllib.request.Request(cloud.auth_url + "/auth/tokens", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return str(resp.headers["X-Subject-Token"])


def _validate(cloud: IdentityCloud, token: str) -> tuple[int, Any]:
    req = urllib.request.Request(cloud.auth_url + "/auth/tokens",
                                 headers={"X-Auth-Token": token, "X-Subject-Token": token})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


def test_tokens_survive_one_rotation_and_die_when_their_key_goes(
        identity_cloud: IdentityCloud) -> None:
    old = _issue(identity_cloud)
    manage(identity_cloud.conf, "fernet-rotate")
    assert _validate(identity_cloud, old)[0] == 200
    new = _issue(identity_cloud)
    assert _validate(identity_cloud, new)[0] == 200
    # max_active_keys is 3 (staged + primary + one secondary): one more rotation
    # drops the key that signed ``old`` but keeps the one that signed ``new``.
    manage(identity_cloud.conf, "fernet-rotate")
    assert _validate(identity_cloud, new)[0] == 200
    assert _validate(identity_cloud, old)[0] == 401


def test_request_id_is_in_the_response_and_the_log(identity_cloud: IdentityCloud) -> None:
    token = _issue(identity_cloud)
    req = urllib.request.Request(identity_cloud.auth_url + "/users/nosuchuser",
                                 headers={"X-Auth-Token": token})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("expected a 404")
    except urllib.error.HTTPError as err:
        assert err.code == 404
        request_id = err.headers["X-OpenStack-Request-ID"]
    assert request_id.startswith("req-")
    log = os.path.join(os.path.dirname(os.path.dirname(identity_cloud.conf)),
                       "identity-api.log")
    with open(log) as handle:
        lines = [line for line in handle if request_id in line]
    assert lines, "request id %s not in %s" % (request_id, log)


def test_sigterm_stops_cleanly(tmp_path: Any) -> None:
    cloud = IdentityCloud(str(tmp_path))
    os.kill(cloud.daemon.proc.pid, signal.SIGTERM)
    assert cloud.daemon.proc.wait(timeout=20) == 0
    cloud.daemon.stop()
