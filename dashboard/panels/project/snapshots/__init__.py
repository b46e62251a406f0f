"""Project: Snapshots."""
