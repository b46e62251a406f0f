"""Fixtures of the network unit tests."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.fixtures import network as fx


@pytest.fixture()
def plugin(tmp_path: Any) -> Iterator[Any]:
    """The network plugin over a fresh SQLite file, without RPC (nothing is sent)."""
    plugin = fx.make_plugin(fx.make_conf(str(tmp_path)))
    yield plugin
    plugin.db.dispose()
