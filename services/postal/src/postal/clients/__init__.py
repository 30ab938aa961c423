"""Outside parties postal talks to: the carrier. Each has a local stand-in in motcua_devstack."""
