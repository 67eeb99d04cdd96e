"""Receivers of providers' webhooks that arrive through a library's own views (anymail)."""
