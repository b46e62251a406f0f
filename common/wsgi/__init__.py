"""WSGI plumbing: routing, requests and responses, faults, middleware, server."""
