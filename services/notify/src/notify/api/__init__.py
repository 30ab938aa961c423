"""Notify's HTTP API for staff."""
