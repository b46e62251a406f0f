"""What ``GET /info`` reports: each enabled part registers its name and settings."""
from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.Lock()
_INFO: dict[str, dict[str, Any]] = {}


def register_swift_info(name: str = "swift", **settings: Any) -> None:
    """Add (or update) ``name`` in ``/info`` with ``settings``."""
    with _LOCK:
        _INFO.setdefault(name, {}).update(settings)


def get_swift_info() -> dict[str, dict[str, Any]]:
    with _LOCK:
        return {name: dict(settings) for name, settings in _INFO.items()}


def reset() -> None:
    """Forget everything (tests)."""
    with _LOCK:
        _INFO.clear()
