"""Credential blobs are encrypted in the database and survive a key rotation."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import webtest

from identity.db import models
from tests.fixtures import identity as fx


def test_blob_is_encrypted_at_rest_and_survives_rotation(tmp_path: Any) -> None:
    conf = fx.make_conf(str(tmp_path))
    pipeline, app = fx.build(conf)
    client = webtest.TestApp(pipeline)
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": fx.ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    resp = client.post_json("/v3/auth/tokens", auth)
    headers = {"X-Auth-Token": resp.headers["X-Subject-Token"]}
    user_id = resp.json["token"]["user"]["id"]
    secret = '{"access": "a", "secret": "very-secret"}'
    cred = client.post_json("/v3/credentials", {"credential": {
        "user_id": user_id, "type": "ec2", "blob": secret}}, headers=headers).json["credential"]
    assert cred["blob"] == secret
    with app.db.reader() as session:
        stored = session.scalars(sa.select(models.Credential.blob)).one()
    assert "very-secret" not in stored

    app.credentials.keys.rotate()
    assert app.credentials.reencrypt_all() == 1
    shown = client.get("/v3/credentials/%s" % cred["id"], headers=headers).json["credential"]
    assert shown["blob"] == secret
    with app.db.reader() as session:
        assert session.scalars(sa.select(models.Credential.blob)).one() != stored
