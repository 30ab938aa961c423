"""Reception's HTTP API, one router per area (listed in ``reception.api.routers``)."""
