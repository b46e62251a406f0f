"""Project: Security Groups."""
