"""The identity service (Keystone v3 on the wire)."""
