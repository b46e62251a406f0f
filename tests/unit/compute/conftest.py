"""Fixtures of the node-manager tests: an in-process compute cloud (conductor,
fake driver; tests/fixtures/compute_node.py) and one node of 8 vCPUs, 4 GiB and
100 GB. A module with other needs defines its own ``cloud`` or ``node``."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from compute.node import manager as node_manager
from tests.fixtures import compute_node as fx


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = fx.Cloud(str(tmp_path))
    yield found
    found.close()


@pytest.fixture
def node(cloud: fx.Cloud) -> node_manager.ComputeManager:
    manager = cloud.add_node("node-1", vcpus=8, memory_mb=4096, local_gb=100)
    manager.init_host()
    return manager
