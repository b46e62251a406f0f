"""Admin: All Volumes."""
