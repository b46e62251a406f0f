"""Admin: Roles."""
