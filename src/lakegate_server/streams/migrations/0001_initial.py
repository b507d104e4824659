# Compaction moved here from the sources app: the table stays (sources_compaction); only
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
                    name="Compaction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("dataset", models.CharField(max_length=100)),
                        (
                            "number",
                            models.PositiveIntegerField(help_text="The dataset version that was compacted."),
                        ),
                        ("delta_before", models.PositiveIntegerField()),
                        ("delta_after", models.PositiveIntegerField()),
                        ("files_before", models.PositiveIntegerField()),
                        ("files_after", models.PositiveIntegerField()),
                        ("seconds", models.FloatField(default=0.0)),
                        ("created_by", models.CharField(blank=True, max_length=100)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "sources_compaction",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
