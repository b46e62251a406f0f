"""Project: Overview."""
