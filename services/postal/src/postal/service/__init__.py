"""Postal's use cases, one module per area; each function takes its ports (unit of work, carrier)."""
