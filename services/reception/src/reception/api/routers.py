"""Every router of reception's API, for the app to include."""

from reception.api import catalogue, dossiers, forms, lookup, reports

ROUTERS = [catalogue.router, dossiers.router, lookup.router, reports.router, forms.router]
