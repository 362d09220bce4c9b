"""Load the official frameworks and crosswalks from data/catalogue.json.

Re-runnable: the loader matches rows on their slugs and updates them in
place. When the catalogue file changes, add a new migration that calls the
same loader rather than editing this one. The loader reads the current file
and writes only the fields the historical models have, so it keeps working
after later schema changes; the migration that adds a field re-runs the
loader to fill it in.
"""

from django.db import migrations


def load_catalogue(apps, schema_editor):
    from incity.frameworks.catalogue import load

    load(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("frameworks", "0001_initial"),
    ]

    operations = [
        # Unloading would delete rows other apps may point at, so going back leaves them in place.
        migrations.RunPython(load_catalogue, migrations.RunPython.noop),
    ]
