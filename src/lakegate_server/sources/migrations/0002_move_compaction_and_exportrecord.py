# Compaction and ExportRecord now belong to the streams and exports apps (their tables
# stay where they are): the sources app forgets them in its state only.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0001_initial"),
        ("streams", "0001_initial"),
        ("exports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Compaction"),
                migrations.DeleteModel(name="ExportRecord"),
            ],
            database_operations=[],
        ),
    ]
