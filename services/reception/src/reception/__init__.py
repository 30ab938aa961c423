"""Reception: where every dossier enters and leaves the province's one-stop shops."""
