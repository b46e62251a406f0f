"""Admin: Users."""
