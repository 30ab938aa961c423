"""Reception's use cases, one module per area, one async function per use case."""
