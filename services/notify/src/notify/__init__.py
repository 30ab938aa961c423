"""motcua notify: tells citizens by SMS and e-mail what happens to their dossiers."""
