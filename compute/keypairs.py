"""Key pairs: per user, imported from a public key or generated."""
from __future__ import annotations

import string
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc

from common.db import engine
from compute import exception
from compute import ssh_keys
from compute.db import models

_SAFE_CHARS = frozenset("_- " + string.digits + string.ascii_letters)


def _as_dict(row: models.KeyPair) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "user_id": row.user_id,
            "fingerprint": row.fingerprint, "public_key": row.public_key, "type": row.type,
            "created_at": row.created_at, "updated_at": row.updated_at}


def validate_name(name: str) -> None:
    """Nova's rule: 1 to 255 of letters, digits, '_', '-' and spaces."""
    if not 1 <= len(name) <= 255:
        raise exception.InvalidKeypair(
            reason="Keypair name must be string and between 1 and 255 characters long")
    if any(c not in _SAFE_CHARS for c in name):
        raise exception.InvalidKeypair(reason="Keypair name contains unsafe characters")


class KeypairService:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db

    def list(self, user_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.scalars(sa.select(models.KeyPair)
                                   .where(models.KeyPair.user_id == user_id)
                                   .order_by(models.KeyPair.name)).all()
            return [_as_dict(r) for r in rows]

    def get(self, user_id: str, name: str) -> dict[str, Any]:
        with self.db.reader() as session:
            row = session.scalars(sa.select(models.KeyPair).where(
                models.KeyPair.user_id == user_id, models.KeyPair.name == name)).first()
            if row is None:
                raise exception.KeypairNotFound(name=name, user_id=user_id)
            return _as_dict(row)

    def import_key(self, user_id: str, name: str, public_key: str,
                   key_type: str = "ssh") -> dict[str, Any]:
        validate_name(name)
        return self._save(user_id, name, public_key, ssh_keys.fingerprint(public_key), key_type)

    def generate(self, user_id: str, name: str,
                 key_type: str = "ssh") -> tuple[dict[str, Any], str]:
        validate_name(name)
        self._check_room(user_id, name)
        private, public, fingerprint = ssh_keys.generate()
        return self._save(user_id, name, public, fingerprint, key_type), private

    def _check_room(self, user_id: str, name: str) -> None:
        with self.db.reader() as session:
            self._check(session, user_id, name)

    def _check(self, session: Any, user_id: str, name: str) -> None:
        names = set(session.scalars(sa.select(models.KeyPair.name).where(
            models.KeyPair.user_id == user_id)).all())
        if name in names:
            raise exception.KeyPairExists(key_name=name)
        limit = self.conf.quota.key_pairs
        if limit >= 0 and len(names) >= limit:
            raise exception.KeypairLimitExceeded()

    def _save(self, user_id: str, name: str, public_key: str, fingerprint: str,
              key_type: str) -> dict[str, Any]:
        try:
            with self.db.writer() as session:
                self._check(session, user_id, name)
                row = models.KeyPair(name=name, user_id=user_id, fingerprint=fingerprint,
                                     public_key=public_key, type=key_type)
                session.add(row)
                session.flush()
                return _as_dict(row)
        except sa_exc.IntegrityError:
            raise exception.KeyPairExists(key_name=name)

    def delete(self, user_id: str, name: str) -> None:
        with self.db.writer() as session:
            result = session.execute(sa.delete(models.KeyPair).where(
                models.KeyPair.user_id == user_id, models.KeyPair.name == name))
            if not getattr(result, "rowcount", 0):
                raise exception.KeypairNotFound(name=name, user_id=user_id)
