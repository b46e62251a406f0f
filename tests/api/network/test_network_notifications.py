"""create/update/delete emit <resource>.<action>.end notifications."""
from __future__ import annotations

from typing import Any

import pytest
from network_api_helpers import Api, project


def test_notifications(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from network.api import base

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(base.rpc, "notify",
                        lambda ctxt, event, payload, **kw: sent.append((event, payload)))
    p = project()
    net = api.create("networks", p, {"name": "n"})
    api.update("networks", p, net["id"], {"name": "m"})
    api.delete("networks", p, net["id"])
    assert [e for e, _ in sent] == ["network.create.end", "network.update.end",
                                    "network.delete.end"]
    assert sent[0][1]["network"]["id"] == net["id"]
    assert sent[2][1]["network_id"] == net["id"]
