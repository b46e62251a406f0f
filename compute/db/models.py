"""SQLAlchemy models of the compute database (owned by the compute API and,
later, the conductor)."""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models


class Base(orm.DeclarativeBase):
    pass


class Flavor(Base):
    __tablename__ = "flavors"
    __table_args__ = (sa.UniqueConstraint("flavorid", name="uniq_flavors0flavorid"),
                      sa.UniqueConstraint("name", name="uniq_flavors0name"))
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavorid: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    ephemeral_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    swap: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    rxtx_factor: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    vcpu_weight: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)
    extra_specs: orm.Mapped[list["FlavorExtraSpec"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    projects: orm.Mapped[list["FlavorProject"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class FlavorExtraSpec(Base):
    __tablename__ = "flavor_extra_specs"
    __table_args__ = (sa.UniqueConstraint("flavor_id", "key",
                                          name="uniq_flavor_extra_specs0flavor_id0key"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavor_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("flavors.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    value: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)


class FlavorProject(Base):
    __tablename__ = "flavor_projects"
    __table_args__ = (sa.UniqueConstraint("flavor_id", "project_id",
                                          name="uniq_flavor_projects0flavor_id0project_id"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavor_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("flavors.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)


class KeyPair(Base):
    __tablename__ = "key_pairs"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uniq_key_pairs0user_id0name"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    public_key: orm.Mapped[str] = orm.mapped_column(sa.Text)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ssh")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)
