"""Project: Volumes."""
