"""Admin: Projects."""
