"""Users, groups and group membership."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from common import exception as common_exc
from common.db import models as base_models
from identity import exception
from identity.db import models
from identity.service import base
from identity.service import passwords

_USER_COLUMNS = {"name", "enabled", "default_project_id"}
_GROUP_COLUMNS = {"name", "description"}


class UserService:
    def __init__(self, conf: cfg.ConfigOpts, store: base.Store) -> None:
        self.conf = conf
        self.store = store

    def _hash(self, password: str) -> str:
        return passwords.hash_password(password, self.conf.identity.password_hash_rounds,
                                       self.conf.identity.max_password_length)

    def create_user(self, values: dict[str, Any], user_id: str | None = None) -> models.User:
        values = dict(values)
        password = values.pop("password", None)
        pw_hash = self._hash(password) if password else None
        with self.store.writer() as session:
            base.get_or_404(session, models.Domain, values["domain_id"], exception.DomainNotFound)
            user = models.User(id=user_id or base.new_id(), domain_id=values.pop("domain_id"),
                               extra={}, options=values.pop("options", None) or {},
                               password_hash=pw_hash)
            if pw_hash:
                user.password_created_at = base_models.utcnow()
            base.merge_extra(user, {k: v for k, v in values.items() if k != "id"}, _USER_COLUMNS)
            session.add(user)
            base.conflict_on_duplicate(session, "user",
                                       "Duplicate entry found with name %s at domain ID %s"
                                       % (user.name, user.domain_id))
            return user

    def get_user(self, user_id: str) -> models.User:
        return self.store.get(models.User, user_id, exception.UserNotFound)

    def find_user(self, name: str, domain_id: str) -> models.User:
        with self.store.reader() as session:
            user = session.scalars(sa.select(models.User).where(
                models.User.name == name, models.User.domain_id == domain_id)).first()
            if user is None:
                raise exception.UserNotFound(id=name)
            return user

    def list_users(self, **filters: Any) -> list[models.User]:
        return self.store.list(models.User, filters, models.User.name)

    def update_user(self, user_id: str, values: dict[str, Any]) -> tuple[models.User, bool]:
        """Update a user; returns it and whether its tokens must be revoked."""
        values = dict(values)
        password = values.pop("password", None)
        if "domain_id" in values:
            raise common_exc.ValidationError(field="domain_id",
                                             detail="Update of `domain_id` is not allowed.")
        with self.store.writer() as session:
            user = base.get_or_404(session, models.User, user_id, exception.UserNotFound)
            revoke = False
            if password is not None:
                user.password_hash = self._hash(password)
                user.password_created_at = base_models.utcnow()
                revoke = True
            if values.get("enabled") is False and user.enabled:
                revoke = True
            if "options" in values:
                user.options = {**(user.options or {}), **(values.pop("options") or {})}
            base.merge_extra(user, values, _USER_COLUMNS)
            base.conflict_on_duplicate(session, "user", "Duplicate entry found with name %s"
                                       % user.name)
            return user, revoke

    def delete_user(self, user_id: str) -> None:
        with self.store.writer() as session:
            user = base.get_or_404(session, models.User, user_id, exception.UserNotFound)
            session.execute(sa.delete(models.Assignment).where(
                models.Assignment.actor_id == user_id))
            session.execute(sa.delete(models.Membership).where(
                models.Membership.user_id == user_id))
            session.execute(sa.delete(models.ApplicationCredential).where(
                models.ApplicationCredential.user_id == user_id))
            session.execute(sa.delete(models.Credential).where(
                models.Credential.user_id == user_id))
            session.delete(user)

    def authenticate(self, user: models.User, password: str | None) -> None:
        """:raises: AuthFailed when the password is wrong or the user disabled."""
        if not passwords.check_password(password, user.password_hash):
            raise exception.AuthFailed("The request you have made requires authentication.")

    # -- groups
    def create_group(self, values: dict[str, Any]) -> models.Group:
        with self.store.writer() as session:
            base.get_or_404(session, models.Domain, values["domain_id"], exception.DomainNotFound)
            group = models.Group(id=base.new_id(), domain_id=values["domain_id"], extra={})
            base.merge_extra(group, {k: v for k, v in values.items()
                                     if k not in ("id", "domain_id")}, _GROUP_COLUMNS)
            session.add(group)
            base.conflict_on_duplicate(session, "group", "Duplicate entry found with name %s"
                                       % group.name)
            return group

    def get_group(self, group_id: str) -> models.Group:
        return self.store.get(models.Group, group_id, exception.GroupNotFound)

    def list_groups(self, **filters: Any) -> list[models.Group]:
        return self.store.list(models.Group, filters, models.Group.name)

    def update_group(self, group_id: str, values: dict[str, Any]) -> models.Group:
        if "domain_id" in values:
            raise common_exc.ValidationError(field="domain_id",
                                             detail="Update of `domain_id` is not allowed.")
        with self.store.writer() as session:
            group = base.get_or_404(session, models.Group, group_id, exception.GroupNotFound)
            base.merge_extra(group, values, _GROUP_COLUMNS)
            base.conflict_on_duplicate(session, "group", "Duplicate entry found with name %s"
                                       % group.name)
            return group

    def delete_group(self, group_id: str) -> list[str]:
        """Delete a group; returns its former members (their tokens lose roles)."""
        with self.store.writer() as session:
            group = base.get_or_404(session, models.Group, group_id, exception.GroupNotFound)
            members = list(session.scalars(sa.select(models.Membership.user_id).where(
                models.Membership.group_id == group_id)))
            session.execute(sa.delete(models.Assignment).where(
                models.Assignment.actor_id == group_id))
            session.execute(sa.delete(models.Membership).where(
                models.Membership.group_id == group_id))
            session.delete(group)
            return members

    def add_member(self, group_id: str, user_id: str) -> None:
        with self.store.writer() as session:
            base.get_or_404(session, models.Group, group_id, exception.GroupNotFound)
            base.get_or_404(session, models.User, user_id, exception.UserNotFound)
            if session.get(models.Membership, (user_id, group_id)) is None:
                session.add(models.Membership(user_id=user_id, group_id=group_id))

    def remove_member(self, group_id: str, user_id: str) -> None:
        with self.store.writer() as session:
            base.get_or_404(session, models.Group, group_id, exception.GroupNotFound)
            base.get_or_404(session, models.User, user_id, exception.UserNotFound)
            member = session.get(models.Membership, (user_id, group_id))
            if member is None:
                raise exception.NotFound("User '%s' not found in group '%s'"
                                         % (user_id, group_id))
            session.delete(member)

    def check_member(self, group_id: str, user_id: str) -> None:
        with self.store.reader() as session:
            base.get_or_404(session, models.Group, group_id, exception.GroupNotFound)
            base.get_or_404(session, models.User, user_id, exception.UserNotFound)
            if session.get(models.Membership, (user_id, group_id)) is None:
                raise exception.NotFound("User '%s' not found in group '%s'"
                                         % (user_id, group_id))

    def list_members(self, group_id: str, **filters: Any) -> list[models.User]:
        with self.store.reader() as session:
            base.get_or_404(session, models.Group, group_id, exception.GroupNotFound)
            query = sa.select(models.User).join(
                models.Membership, models.Membership.user_id == models.User.id).where(
                models.Membership.group_id == group_id)
            query = base.apply_filters(query, models.User, filters)
            return list(session.scalars(query.order_by(models.User.name)))

    def groups_of_user(self, user_id: str, **filters: Any) -> list[models.Group]:
        with self.store.reader() as session:
            base.get_or_404(session, models.User, user_id, exception.UserNotFound)
            query = sa.select(models.Group).join(
                models.Membership, models.Membership.group_id == models.Group.id).where(
                models.Membership.user_id == user_id)
            query = base.apply_filters(query, models.Group, filters)
            return list(session.scalars(query.order_by(models.Group.name)))

    def group_ids_of_user(self, user_id: str) -> list[str]:
        with self.store.reader() as session:
            return list(session.scalars(sa.select(models.Membership.group_id).where(
                models.Membership.user_id == user_id)))
