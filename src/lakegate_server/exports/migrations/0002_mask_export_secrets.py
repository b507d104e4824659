# Export runs created before passwords were refused kept a `to:` URL with its password in their
# parameters, which viewers read (GET /api/v1/runs, the dashboard, `lakegate runs show`). Mask
# them, and the recorded destinations with the stricter masking. Masking twice changes nothing,
# and nothing is unmasked going back.

from typing import Any

from django.db import migrations


def _mask(apps: Any, schema_editor: Any) -> None:
    from lakegate.export import mask_url

    run_model = apps.get_model("jobs", "Run")
    changed = []
    for run in run_model.objects.filter(kind="export").only("id", "params").iterator(chunk_size=500):
        to = run.params.get("to") if isinstance(run.params, dict) else None
        if isinstance(to, str) and mask_url(to) != to:
            run.params = {**run.params, "to": mask_url(to)}
            changed.append(run)
    run_model.objects.bulk_update(changed, ["params"], batch_size=500)

    record_model = apps.get_model("exports", "ExportRecord")
    records = []
    for record in record_model.objects.only("id", "destination").iterator(chunk_size=500):
        masked = mask_url(record.destination)
        if masked != record.destination:
            record.destination = masked
            records.append(record)
    record_model.objects.bulk_update(records, ["destination"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("jobs", "0001_initial"),
    ]

    operations = [migrations.RunPython(_mask, migrations.RunPython.noop)]
