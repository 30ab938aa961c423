"""Notify's use cases, one module per area, one async function per use case taking a command and ``uow``.

``recording`` (what events owe the citizen), ``sending`` (one claimed notification to its provider),
``receipts`` (what providers report afterwards), ``templates`` (staff edits and previews),
``preferences`` (opt-outs), ``views`` (what staff read).
"""
