"""Project: API Access (the services of the catalog, and an openrc file)."""
