"""The project panels."""
