"""Postal's pure rules: addresses, transit targets, the shipment's status machine. No I/O here."""
