"""Clients of the outside parties notify sends through; each classifies its errors."""
