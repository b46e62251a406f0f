"""URLs of Routers (filled by the panel's views)."""
from typing import Any

urlpatterns: list[Any] = []
