"""Spiders: one per source kind, configured by configs/sites/KEY.yaml."""
