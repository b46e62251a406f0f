"""Project: Containers."""
