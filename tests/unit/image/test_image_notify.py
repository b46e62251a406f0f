"""Image notifications never reveal where the data is stored."""
from __future__ import annotations

from typing import Any

import pytest

from image import service


def test_payload_drops_the_location(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, dict[str, Any], str]] = []
    monkeypatch.setattr(service.rpc, "notify", lambda ctxt, event, payload, publisher_id:
                        sent.append((event, payload, publisher_id)))
    service.notify(None, "image.upload", {"id": "i", "location": "file:///secret/i"})
    assert sent == [("image.upload", {"id": "i"}, "image." + service._host())]
