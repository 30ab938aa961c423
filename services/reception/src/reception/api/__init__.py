"""Reception's HTTP API, one router per area."""

from reception.api import catalogue, dossiers, forms, lookup, reports

ROUTERS = [catalogue.router, dossiers.router, lookup.router, reports.router, forms.router]
