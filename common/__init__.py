"""Plumbing shared by every Stratus service; never imports a service package."""
