"""Project: Backups."""
