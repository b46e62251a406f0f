"""SQLAlchemy models of the identity database (and only of it)."""
from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models

ID = sa.String(64)
NAME = sa.String(255)


class Base(orm.DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class Domain(Base):
    __tablename__ = "domains"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME, unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("domains.id"), index=True)
    parent_id: orm.Mapped[str | None] = orm.mapped_column(ID, sa.ForeignKey("projects.id"),
                                                          index=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)
    tags: orm.Mapped[list["ProjectTag"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")


class ProjectTag(Base):
    __tablename__ = "project_tags"
    project_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME, primary_key=True)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("domains.id"), index=True)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    password_hash: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    password_created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime)
    password_expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime)
    default_project_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)
    options: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    last_active_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime)


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("domains.id"), index=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class Membership(Base):
    __tablename__ = "user_group_membership"
    user_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True)


class Role(Base):
    __tablename__ = "roles"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME, index=True)
    domain_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    options: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class ImpliedRole(Base):
    __tablename__ = "implied_roles"
    prior_role_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    implied_role_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


# Assignment types, as Keystone names them.
USER_PROJECT, GROUP_PROJECT = "UserProject", "GroupProject"
USER_DOMAIN, GROUP_DOMAIN = "UserDomain", "GroupDomain"
USER_SYSTEM, GROUP_SYSTEM = "UserSystem", "GroupSystem"
SYSTEM_TARGET = "system"


class Assignment(Base):
    __tablename__ = "assignments"
    type: orm.Mapped[str] = orm.mapped_column(sa.String(16), primary_key=True)
    actor_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    target_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    role_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    inherited: orm.Mapped[bool] = orm.mapped_column(primary_key=True, default=False)
    __table_args__ = (sa.Index("ix_assignments_actor", "actor_id"),
                      sa.Index("ix_assignments_target", "target_id"))


class Region(Base):
    __tablename__ = "regions"
    id: orm.Mapped[str] = orm.mapped_column(NAME, primary_key=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    parent_region_id: orm.Mapped[str | None] = orm.mapped_column(NAME)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class Service(Base):
    __tablename__ = "services"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    type: orm.Mapped[str] = orm.mapped_column(NAME)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class Endpoint(Base):
    __tablename__ = "endpoints"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    service_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("services.id", ondelete="CASCADE"), index=True)
    interface: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    region_id: orm.Mapped[str | None] = orm.mapped_column(NAME, sa.ForeignKey("regions.id"))
    url: orm.Mapped[str] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class Credential(Base):
    __tablename__ = "credentials"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    user_id: orm.Mapped[str] = orm.mapped_column(ID, index=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    type: orm.Mapped[str] = orm.mapped_column(NAME)
    blob: orm.Mapped[str] = orm.mapped_column(sa.Text)
    extra: orm.Mapped[dict[str, Any]] = orm.mapped_column(default=dict)


class ApplicationCredential(Base):
    __tablename__ = "application_credentials"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    secret_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    user_id: orm.Mapped[str] = orm.mapped_column(ID, index=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    system: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime)
    unrestricted: orm.Mapped[bool] = orm.mapped_column(default=False)
    roles: orm.Mapped[list[Any]] = orm.mapped_column(default=list)
    access_rules: orm.Mapped[list[Any]] = orm.mapped_column(default=list)


class AccessRule(Base):
    """A rule limiting what an application credential may call, kept per user."""

    __tablename__ = "access_rules"
    __table_args__ = (sa.UniqueConstraint("user_id", "service", "path", "method"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    user_id: orm.Mapped[str] = orm.mapped_column(ID, index=True)
    service: orm.Mapped[str] = orm.mapped_column(NAME)
    path: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    method: orm.Mapped[str] = orm.mapped_column(sa.String(16))


class RevocationEvent(Base):
    __tablename__ = "revocation_events"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    user_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    project_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    domain_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    audit_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), index=True)
    audit_chain_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    app_cred_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    issued_before: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime)
    revoked_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow, index=True)
