"""Exports of volumes to their consumers (iSCSI through tgt)."""
