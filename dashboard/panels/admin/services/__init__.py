"""Admin: System Information."""
