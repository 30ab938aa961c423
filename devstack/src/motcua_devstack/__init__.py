"""motcua's embedded default: local wire-protocol servers, stand-ins for outside parties, the launcher.

Development and test only: it depends on SecantusDB (GPL-2.0), which never goes into a production image.
"""
