"""The admin panels."""
