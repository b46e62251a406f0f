"""Service-to-service REST plumbing (keystoneauth1 sessions, adapters, service tokens).

Each service keeps its own small client modules for its neighbours
(``compute/clients/image.py`` …) built on :mod:`common.clients.base`.
"""
