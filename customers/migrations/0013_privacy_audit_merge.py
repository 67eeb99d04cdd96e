from django.db import migrations, models


class Migration(migrations.Migration):
    """Merging two records of a client is audited on both ids (a new action, no schema change)."""

    dependencies = [
        ("customers", "0012_template_variants"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed the client card"),
                    ("note", "Wrote a note"),
                    ("export", "Exported the client's data"),
                    ("consent", "Changed consent"),
                    ("message", "Sent a message"),
                    ("erase", "Erased the client"),
                    ("merge", "Merged two records of the client"),
                ],
                max_length=12,
            ),
        ),
    ]
