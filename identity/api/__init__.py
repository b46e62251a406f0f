"""The identity HTTP API: routes, controllers, schemas, views."""
