"""Postal: collection of dossiers at citizens' homes and delivery of results through the public postal service."""
