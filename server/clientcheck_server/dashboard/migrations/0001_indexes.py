"""Indexes the dashboard's pages need on the fleet's tables, at 100,000 hosts: the host list sorted by
"owing longest" (keyset on owed_since, id) and a rule's page (its hosts by how long they have been in their
state: keyset on since, id). Plain SQL from this app's own migration, so the fleet app's migrations
stay as they are; both statements are the same on SQLite and PostgreSQL."""

from django.db import migrations

INDEXES = [
    ("dashboard_host_owed_since", "fleet_host (owed_since, id)"),
    ("dashboard_rulestate_rule_since", "fleet_rulestate (rule, since, id)"),
]


class Migration(migrations.Migration):
    dependencies = [("fleet", "0003_rollup_product_and_time")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {table}", f"DROP INDEX IF EXISTS {name}")
        for name, table in INDEXES
    ]
