"""Key pairs: per user, imported from a public key or generated."""
from __future__ import annotations

import binascii
import datetime
import string
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import oid
from oslo_config import cfg
from sqlalchemy import exc as sa_exc

from common import exception as common_exception
from common.db import engine
from compute import exception
from compute import ssh_keys
from compute.db import models

_SAFE_CHARS = frozenset("_- " + string.digits + string.ascii_letters)
SSH, X509 = "ssh", "x509"


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


def x509_fingerprint(certificate: str) -> str:
    """The SHA-1 fingerprint (``aa:bb:...``) of a PEM certificate (x509 key pairs, 2.2).

    :raises: InvalidKeypair when ``certificate`` is not a PEM certificate.
    """
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode("utf-8"))
    except (ValueError, TypeError, UnicodeError) as err:
        raise exception.InvalidKeypair(
            reason="failed to generate X509 fingerprint. Error message: %s" % err)
    raw = binascii.hexlify(cert.fingerprint(hashes.SHA1())).decode("ascii")
    return ":".join(raw[i:i + 2] for i in range(0, len(raw), 2))


def generate_x509(user_id: str, bits: int = 2048) -> tuple[str, str, str]:
    """A new self-signed certificate for ``user_id``, as Nova makes x509 key
    pairs: (private key PEM, certificate PEM, fingerprint)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(oid.NameOID.COMMON_NAME, user_id)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode("ascii")
    public = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return private, public, x509_fingerprint(public)


class KeypairService:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db

    def list(self, user_id: str, limit: int | None = None,
             marker: str | None = None) -> list[dict[str, Any]]:
        """The user's key pairs by name; one page of them after the one named
        ``marker`` (microversion 2.35).

        :raises: Invalid (400) for a ``marker`` the user has no key pair of.
        """
        query = (sa.select(models.KeyPair).where(models.KeyPair.user_id == user_id)
                 .order_by(models.KeyPair.name))
        with self.db.reader() as session:
            if marker is not None:
                found = session.scalar(sa.select(models.KeyPair.id).where(
                    models.KeyPair.user_id == user_id, models.KeyPair.name == marker))
                if found is None:
                    raise common_exception.Invalid("Marker %s could not be found." % marker)
                query = query.where(models.KeyPair.name > marker)
            if limit is not None:
                query = query.limit(limit)
            return [_as_dict(r) for r in session.scalars(query).all()]

    def get(self, user_id: str, name: str) -> dict[str, Any]:
        with self.db.reader() as session:
            row = session.scalars(sa.select(models.KeyPair).where(
                models.KeyPair.user_id == user_id, models.KeyPair.name == name)).first()
            if row is None:
                raise exception.KeypairNotFound(name=name, user_id=user_id)
            return _as_dict(row)

    def import_key(self, user_id: str, name: str, public_key: str,
                   key_type: str = SSH) -> dict[str, Any]:
        validate_name(name)
        fingerprint = (x509_fingerprint(public_key) if key_type == X509
                       else ssh_keys.fingerprint(public_key))
        return self._save(user_id, name, public_key, fingerprint, key_type)

    def generate(self, user_id: str, name: str,
                 key_type: str = SSH) -> tuple[dict[str, Any], str]:
        validate_name(name)
        self._check_room(user_id, name)
        private, public, fingerprint = (generate_x509(user_id) if key_type == X509
                                        else ssh_keys.generate())
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
