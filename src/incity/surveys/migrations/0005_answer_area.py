# The area of each geometry answer: a derived column, filled by `places.assignment`.
# Rows stored before this migration stay NULL until `incity places assign PROJECT`
# (or any change to the project's areas) recomputes them.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0002_named_places_and_plan_images"),
        ("surveys", "0004_form_data_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="answer",
            name="area",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="places.area",
            ),
        ),
    ]
