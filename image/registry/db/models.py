"""SQLAlchemy models of the image database (owned by stratus-image-registry)."""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models

ID = sa.String(64)


class Base(orm.DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = "images"
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), index=True)
    visibility: orm.Mapped[str] = orm.mapped_column(sa.String(16), index=True)
    protected: orm.Mapped[bool] = orm.mapped_column(default=False)
    os_hidden: orm.Mapped[bool] = orm.mapped_column(default=False)
    owner: orm.Mapped[str | None] = orm.mapped_column(ID, index=True)
    size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    virtual_size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    checksum: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    os_hash_algo: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    os_hash_value: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    disk_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    container_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    min_disk: orm.Mapped[int] = orm.mapped_column(default=0)
    min_ram: orm.Mapped[int] = orm.mapped_column(default=0)
    location: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow, index=True)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow, onupdate=base_models.utcnow)
    properties: orm.Mapped[list["ImageProperty"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")
    tags: orm.Mapped[list["ImageTag"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")


class ImageProperty(Base):
    __tablename__ = "image_properties"
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.Text)


class ImageTag(Base):
    __tablename__ = "image_tags"
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)


class ImageMember(Base):
    __tablename__ = "image_members"
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    member: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="pending")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow, onupdate=base_models.utcnow)


class Task(Base):
    """An asynchronous operation on an image (``api_image_import``), as Glance's
    tasks and task_info tables in one row. Removed with its image."""

    __tablename__ = "tasks"
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("images.id", ondelete="CASCADE"), index=True)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(30))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), index=True)
    owner: orm.Mapped[str | None] = orm.mapped_column(ID)
    request_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    input: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    result: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    message: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                         index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow, onupdate=base_models.utcnow)
