"""Project: Floating IPs."""
