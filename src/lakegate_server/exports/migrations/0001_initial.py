# ExportRecord moved here from the sources app: the table stays (sources_exportrecord); only
# Django's idea of which app owns the model changes, so no data is copied.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("sources", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExportRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("dataset", models.CharField(max_length=100)),
                        ("number", models.PositiveIntegerField()),
                        (
                            "destination",
                            models.CharField(help_text="Where to, password masked.", max_length=500),
                        ),
                        ("table", models.CharField(max_length=200)),
                        ("mode", models.CharField(max_length=10)),
                        ("rows", models.BigIntegerField()),
                        ("seconds", models.FloatField()),
                        ("created_by", models.CharField(blank=True, max_length=100)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "sources_exportrecord",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
