"""Load the official frameworks and crosswalks from data/catalogue.json.

Re-runnable: the loader matches rows on their slugs and updates them in
place. When the catalogue file changes, add a new migration that calls the
same loader rather than editing this one. The loader reads the current file
and writes the fields the models have today; if a later schema change makes
it incompatible with this migration's historical models, freeze a copy of the
loader of this time here.
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
