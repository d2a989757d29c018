"""clientcheck-server: the fleet collector. Workstations enroll with a secret, ship their clientcheck reports,
and the admin reads who owes which update, since when, through an API (and, later, a dashboard)."""

__version__ = "0.1.0"
