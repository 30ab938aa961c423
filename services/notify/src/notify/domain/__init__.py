"""Notify's pure domain: texts, templates, message selection. No I/O."""
