"""stratus-network-metadata-agent (``agent``: the UNIX-socket server that
identifies the instance behind a request and forwards it, signed, to the compute
metadata API) and the per-namespace proxy (``ns_proxy``, stdlib only) that the
L3 agent runs in each router namespace. Nothing is imported here: ``ns_proxy``
runs once per router and must stay small."""
