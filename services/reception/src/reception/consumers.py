"""Reception's consumers. The dossier register (following agency steps, deliveries and
notifications) subscribes here; the walking skeleton has none yet."""

from __future__ import annotations

from motcua_kit.runtime import ConsumerSpec


def consumer_specs() -> list[ConsumerSpec]:
    return []
