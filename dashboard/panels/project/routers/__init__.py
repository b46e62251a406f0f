"""Project: Routers."""
