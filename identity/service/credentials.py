"""Credentials (EC2, TOTP, ... blobs) and application credentials."""
from __future__ import annotations

import base64
import datetime
import os
from typing import Any

import sqlalchemy as sa
from cryptography import fernet
from oslo_config import cfg

from common import exception as common_exc
from identity import exception
from identity.db import models as M
from identity.service import base
from identity.service import passwords
from identity.tokens import keys


class CredentialService:
    """Credentials are stored encrypted (Fernet, [credential] key_repository) and
    handed out decrypted; application credentials keep only a bcrypt hash."""

    def __init__(self, conf: cfg.ConfigOpts, store: base.Store) -> None:
        self.conf = conf
        self.store = store
        self.keys = keys.KeyRepository(conf.credential.key_repository)

    def _encrypt(self, blob: str) -> str:
        return self.keys.multi().encrypt(blob.encode("utf-8")).decode()

    def _decrypted(self, cred: M.Credential) -> M.Credential:
        """``cred`` (detached) with its blob in clear text."""
        try:
            cred.blob = self.keys.multi().decrypt(cred.blob.encode()).decode("utf-8")
        except fernet.InvalidToken:
            raise exception.CredentialEncryptionError(id=cred.id)
        return cred

    def reencrypt_all(self) -> int:
        """Encrypt every blob with the primary key (after credential-rotate)."""
        with self.store.writer() as session:
            creds = list(session.scalars(sa.select(M.Credential)))
            for cred in creds:
                cred.blob = self.keys.multi().rotate(cred.blob.encode()).decode()
            return len(creds)

    # -- credentials
    def create_credential(self, values: dict[str, Any]) -> M.Credential:
        with self.store.writer() as session:
            base.get_or_404(session, M.User, values["user_id"], exception.UserNotFound)
            cred = M.Credential(id=base.new_id(), user_id=values["user_id"],
                                project_id=values.get("project_id"), type=values["type"],
                                blob=self._encrypt(values["blob"]),
                                extra={k: v for k, v in values.items()
                                       if k not in ("id", "user_id", "project_id", "type",
                                                    "blob")})
            session.add(cred)
            session.flush()
        return self._decrypted(cred)

    def get_credential(self, cred_id: str) -> M.Credential:
        return self._decrypted(self.store.get(M.Credential, cred_id,
                                              exception.CredentialNotFound))

    def list_credentials(self, **filters: Any) -> list[M.Credential]:
        return [self._decrypted(c) for c in self.store.list(M.Credential, filters)]

    def update_credential(self, cred_id: str, values: dict[str, Any]) -> M.Credential:
        with self.store.writer() as session:
            cred = base.get_or_404(session, M.Credential, cred_id, exception.CredentialNotFound)
            values = {k: v for k, v in values.items() if k != "id"}
            if "blob" in values:
                values["blob"] = self._encrypt(values["blob"])
            base.merge_extra(cred, values, {"user_id", "project_id", "type", "blob"})
            session.flush()
        return self._decrypted(cred)

    def delete_credential(self, cred_id: str) -> None:
        self.store.delete(M.Credential, cred_id, exception.CredentialNotFound)

    # -- application credentials
    def create_app_cred(self, user_id: str, project_id: str | None, values: dict[str, Any],
                        roles: list[str]) -> tuple[M.ApplicationCredential, str]:
        """Create an application credential; returns it and its secret (shown once)."""
        secret = values.get("secret") or base64.urlsafe_b64encode(
            os.urandom(48)).decode().rstrip("=")
        rounds = self.conf.identity.password_hash_rounds
        with self.store.writer() as session:
            app = M.ApplicationCredential(
                id=base.new_id(), name=values["name"], user_id=user_id, project_id=project_id,
                secret_hash=passwords.hash_password(secret, rounds),
                description=values.get("description"), expires_at=values.get("expires_at"),
                unrestricted=bool(values.get("unrestricted", False)), roles=roles,
                access_rules=self._rule_ids(session, user_id, values.get("access_rules") or []),
                system=None)
            session.add(app)
            base.conflict_on_duplicate(session, "application_credential",
                                       "Duplicate entry found with name %s" % values["name"])
            return app, secret

    @staticmethod
    def _rule_ids(session: Any, user_id: str, rules: list[dict[str, Any]]) -> list[str]:
        """Reuse the user's identical access rules; create the others."""
        ids: list[str] = []
        for rule in rules:
            if rule.get("id"):
                found = session.get(M.AccessRule, rule["id"])
                if found is None or found.user_id != user_id:
                    raise common_exc.ValidationError(field="access_rules",
                                                     detail="unknown rule %s" % rule["id"])
                ids.append(found.id)
                continue
            if not all(rule.get(k) for k in ("service", "path", "method")):
                raise common_exc.ValidationError(
                    field="access_rules", detail="a rule needs service, path and method")
            found = session.scalars(sa.select(M.AccessRule).where(
                M.AccessRule.user_id == user_id, M.AccessRule.service == rule["service"],
                M.AccessRule.path == rule["path"],
                M.AccessRule.method == rule["method"])).first()
            if found is None:
                found = M.AccessRule(id=base.new_id(), user_id=user_id,
                                     service=rule["service"], path=rule["path"],
                                     method=rule["method"])
                session.add(found)
                session.flush()
            ids.append(found.id)
        return ids

    def access_rules(self, user_id: str) -> dict[str, M.AccessRule]:
        with self.store.reader() as session:
            return {r.id: r for r in session.scalars(sa.select(M.AccessRule).where(
                M.AccessRule.user_id == user_id))}

    def get_access_rule(self, user_id: str, rule_id: str) -> M.AccessRule:
        rule = self.access_rules(user_id).get(rule_id)
        if rule is None:
            raise exception.NotFound("Could not find access rule: %s." % rule_id)
        return rule

    def delete_access_rule(self, user_id: str, rule_id: str) -> None:
        with self.store.writer() as session:
            rule = session.get(M.AccessRule, rule_id)
            if rule is None or rule.user_id != user_id:
                raise exception.NotFound("Could not find access rule: %s." % rule_id)
            for app in session.scalars(sa.select(M.ApplicationCredential).where(
                    M.ApplicationCredential.user_id == user_id)):
                if rule_id in (app.access_rules or []):
                    raise common_exc.Forbidden("Access rule %s is in use by application "
                                               "credential %s." % (rule_id, app.id))
            session.delete(rule)

    def get_app_cred(self, app_id: str, user_id: str | None = None) -> M.ApplicationCredential:
        with self.store.reader() as session:
            app = base.get_or_404(session, M.ApplicationCredential, app_id,
                                  exception.AppCredNotFound)
            if user_id is not None and app.user_id != user_id:
                raise exception.AppCredNotFound(id=app_id)
            return app

    def find_app_cred(self, name: str, user_id: str) -> M.ApplicationCredential:
        with self.store.reader() as session:
            app = session.scalars(sa.select(M.ApplicationCredential).where(
                M.ApplicationCredential.name == name,
                M.ApplicationCredential.user_id == user_id)).first()
            if app is None:
                raise exception.AppCredNotFound(id=name)
            return app

    def list_app_creds(self, user_id: str,
                       name: str | None = None) -> list[M.ApplicationCredential]:
        return self.store.list(M.ApplicationCredential, {"user_id": user_id, "name": name})

    def delete_app_cred(self, app_id: str, user_id: str) -> None:
        with self.store.writer() as session:
            app = base.get_or_404(session, M.ApplicationCredential, app_id,
                                  exception.AppCredNotFound)
            if app.user_id != user_id:
                raise exception.AppCredNotFound(id=app_id)
            session.delete(app)

    @staticmethod
    def check_app_cred(app: M.ApplicationCredential, secret: str | None) -> None:
        """:raises: AuthFailed when the secret is wrong or the credential expired."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if app.expires_at is not None and app.expires_at <= now:
            raise exception.AuthFailed("The application credential has expired.")
        if not passwords.check_password(secret, app.secret_hash):
            raise exception.AuthFailed("The request you have made requires authentication.")

    @staticmethod
    def check_not_expired(expires_at: datetime.datetime | None) -> None:
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if expires_at is not None and expires_at <= now:
            raise common_exc.ValidationError(field="expires_at",
                                             detail="The expiration is in the past.")
