"""motcua_kit: the plumbing every motcua service shares. No business rules live here."""
