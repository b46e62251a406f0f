"""GET /extensions and /extensions/{alias} (the fixed list Nova shows at 2.1)."""
from __future__ import annotations

from compute_api_helpers import Api, project


def test_list_and_show(api: Api) -> None:
    p = project()
    extensions = api.call("GET", "/v2.1/extensions", p, status=200).json["extensions"]
    aliases = [e["alias"] for e in extensions]
    assert "os-consoles" in aliases and "Hosts" in [e["name"] for e in extensions]
    assert len(aliases) == len(set(aliases))
    for extension in extensions:
        assert set(extension) == {"alias", "name", "description", "links", "namespace",
                                  "updated"}
    shown = api.call("GET", "/v2.1/extensions/os-consoles", p, status=200).json
    assert shown["extension"]["alias"] == "os-consoles"
    assert shown["extension"] in extensions
    api.call("GET", "/v2.1/extensions/os-nothing", p, status=404)
    # The pre-2.18 URL form with the project id works too.
    api.call("GET", "/v2.1/%s/extensions" % p, p, status=200)
