"""Hosts remember since when they owe something. Existing owed hosts get the earliest moment one of their
currently owing rules entered its state: the server learned of it then."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery


def backfill(apps: Any, schema_editor: Any) -> None:
    host_model = apps.get_model("fleet", "Host")
    state_model = apps.get_model("fleet", "RuleState")
    earliest = (
        state_model.objects.filter(
            host=OuterRef("pk"), status__in=["owed", "unsupported", "restart"], severity="required"
        )
        .values("host")
        .annotate(first=Min("since"))
        .values("first")
    )
    host_model.objects.filter(status="owed").update(owed_since=Subquery(earliest))


class Migration(migrations.Migration):
    dependencies = [("fleet", "0001_initial")]

    operations = [
        migrations.AddField(model_name="host", name="owed_since", field=models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
