"""Processing: the agencies' work on dossiers, one step per agency of the chain."""
