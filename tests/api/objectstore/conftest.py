"""Fixtures of the object store API tests: ``cluster``, the storage-server cluster
of tests/api/objectstore/os_replication_cluster.py."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.api.objectstore.os_replication_cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    cluster = Cluster(str(tmp_path))
    try:
        yield cluster
    finally:
        cluster.close()
