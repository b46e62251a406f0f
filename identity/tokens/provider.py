"""Issues and validates tokens. Validation decrypts the token and serves the
rest (user, scope, roles) from a short-lived cache: no DB hit per validation."""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from oslo_config import cfg

from identity import exception
from identity.db import models as M
from identity.service import assignment as assignment_svc
from identity.service import cache as cache_mod
from identity.service import effective as effective_svc
from identity.service import resource as resource_svc
from identity.service import revoke as revoke_svc
from identity.service import users as users_svc
from identity.tokens import keys as token_keys
from identity.tokens import payload as token_payload

P = token_payload


@dataclasses.dataclass
class Token:
    """A validated token and what its body shows."""

    id: str
    payload: token_payload.TokenPayload
    user: dict[str, Any]
    project: dict[str, Any] | None = None
    domain: dict[str, Any] | None = None
    system: bool = False
    roles: list[dict[str, str]] = dataclasses.field(default_factory=list)
    app_cred: dict[str, Any] | None = None
    is_admin_project: bool = False

    @property
    def role_names(self) -> list[str]:
        return [r["name"] for r in self.roles]


class TokenProvider:
    def __init__(self, conf: cfg.ConfigOpts, resources: resource_svc.ResourceService,
                 users: users_svc.UserService, assignments: assignment_svc.AssignmentService,
                 effective: effective_svc.EffectiveService, revocations: revoke_svc.RevokeService,
                 cache: cache_mod.Cache, apps: Any) -> None:
        self.conf = conf
        self.resources = resources
        self.users = users
        self.assignments = assignments
        self.effective = effective
        self.revocations = revocations
        self.cache = cache
        self.apps = apps
        # Decryption is deterministic: remember what each token id decrypts to.
        # (Expiry and revocation are still checked on every validation.)
        self._decoded: dict[str, token_payload.TokenPayload] = {}
        self._decoded_generation = -1
        self.keys = token_keys.KeyRepository(conf.fernet_tokens.key_repository,
                                             conf.fernet_tokens.max_active_keys)

    # -- issue
    def issue(self, user_id: str, methods: list[str], scope_type: str, scope_id: str | None,
              parent: token_payload.TokenPayload | None = None,
              app_cred_id: str | None = None) -> Token:
        now = P.utcnow()
        expires = now + datetime.timedelta(seconds=self.conf.token.expiration)
        audit_ids = [P.new_audit_id()]
        if parent is not None:
            expires = min(expires, parent.expires_at)
            audit_ids.append(parent.audit_ids[-1])
        payload = P.TokenPayload(user_id, methods, scope_type, scope_id, expires, now,
                                 audit_ids, app_cred_id)
        token_id = P.encode(self.keys, payload)
        # A fresh token must reflect current data, not a cached view of it.
        token = self._build(token_id, payload, fresh=True)
        return token

    # -- validate
    def validate(self, token_id: str, allow_expired: bool = False) -> Token:
        """Validate a token.

        :raises: TokenNotFound when it is garbled, expired, revoked, or its user,
            scope or roles are gone.
        """
        self.keys.multi()  # reloads the keys if rotated; bumps their generation
        if self._decoded_generation != self.keys.generation:
            self._decoded.clear()
            self._decoded_generation = self.keys.generation
        payload = self._decoded.get(token_id)
        if payload is None:
            payload = P.decode(self.keys, token_id)
            if len(self._decoded) >= 10000:
                self._decoded.clear()
            self._decoded[token_id] = payload
        now = P.utcnow()
        window = self.conf.token.allow_expired_window if allow_expired else 0
        if payload.expires_at + datetime.timedelta(seconds=window) <= now:
            raise exception.TokenNotFound(id=token_id[:16] + "...")
        token = self._build(token_id, payload, fresh=False)
        project_id = token.project["id"] if token.project else None
        domain_id = token.domain["id"] if token.domain else None
        if self.revocations.is_revoked(payload.user_id, project_id, domain_id,
                                       payload.audit_ids, payload.app_cred_id,
                                       payload.issued_at):
            raise exception.TokenNotFound(id=token_id[:16] + "...")
        return token

    def _build(self, token_id: str, payload: token_payload.TokenPayload,
               fresh: bool) -> Token:
        key = (payload.user_id, payload.scope_type, payload.scope_id, payload.app_cred_id)
        parts = self.cache.get_or_load(key, lambda: self._load(payload), fresh=fresh)
        user, project, domain, system, roles, app = parts
        return Token(token_id, payload, user, project, domain, system, roles, app)

    def _load(self, payload: token_payload.TokenPayload) -> tuple[Any, ...]:
        try:
            user = self.users.get_user(payload.user_id)
            user_domain = self.resources.get_domain(user.domain_id)
        except exception.NotFound:
            raise exception.TokenNotFound(id="(user gone)")
        if not user.enabled or not user_domain.enabled:
            raise exception.TokenNotFound(id="(user disabled)")
        user_ref = {"id": user.id, "name": user.name,
                    "domain": {"id": user_domain.id, "name": user_domain.name},
                    "password_expires_at": _iso(user.password_expires_at)}
        project_ref = domain_ref = None
        system = False
        if payload.scope_type == P.PROJECT:
            project_ref = self._project_ref(payload.scope_id or "")
            role_ids = self.effective.role_ids_on(user.id, "project", project_ref["id"])
        elif payload.scope_type == P.DOMAIN:
            domain_ref = self._domain_ref(payload.scope_id or "")
            role_ids = self.effective.role_ids_on(user.id, "domain", domain_ref["id"])
        elif payload.scope_type == P.SYSTEM:
            system = True
            role_ids = self.effective.role_ids_on(user.id, "system", M.SYSTEM_TARGET)
        else:
            role_ids = []
        app_ref = None
        if payload.app_cred_id:
            app_ref, role_ids = self._app_cred(payload.app_cred_id, role_ids)
        roles = self.assignments.all_roles()
        role_refs = [{"id": r, "name": roles[r].name} for r in role_ids if r in roles]
        if payload.scope_type != P.UNSCOPED and not role_refs:
            raise exception.TokenNotFound(id="(no roles on scope)")
        return user_ref, project_ref, domain_ref, system, role_refs, app_ref

    def _project_ref(self, project_id: str) -> dict[str, Any]:
        try:
            project = self.resources.get_project(project_id)
            domain = self.resources.get_domain(project.domain_id)
        except exception.NotFound:
            raise exception.TokenNotFound(id="(project gone)")
        if not project.enabled or not domain.enabled:
            raise exception.TokenNotFound(id="(project disabled)")
        return {"id": project.id, "name": project.name,
                "domain": {"id": domain.id, "name": domain.name}}

    def _domain_ref(self, domain_id: str) -> dict[str, Any]:
        try:
            domain = self.resources.get_domain(domain_id)
        except exception.NotFound:
            raise exception.TokenNotFound(id="(domain gone)")
        if not domain.enabled:
            raise exception.TokenNotFound(id="(domain disabled)")
        return {"id": domain.id, "name": domain.name}

    def _app_cred(self, app_id: str, role_ids: list[str]) -> tuple[dict[str, Any], list[str]]:
        try:
            app = self.apps.get_app_cred(app_id)
        except exception.NotFound:
            raise exception.TokenNotFound(id="(application credential gone)")
        allowed = {r["id"] if isinstance(r, dict) else r for r in app.roles}
        expanded = {r.id for r in self.assignments.expand_roles(list(allowed))}
        ref: dict[str, Any] = {"id": app.id, "name": app.name,
                               "restricted": not app.unrestricted}
        if app.access_rules:
            rules = self.apps.access_rules(app.user_id)
            ref["access_rules"] = [{"id": r, "service": rules[r].service,
                                    "path": rules[r].path, "method": rules[r].method}
                                   for r in app.access_rules if r in rules]
        return ref, [r for r in role_ids if r in expanded]


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%f")
