from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0016_sms_suppression_inbound"),
    ]

    operations = [
        migrations.AddField(
            model_name="automationrule",
            name="enabled_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="sending since"
            ),
        ),
        migrations.AddField(
            model_name="automationrule",
            name="include_backlog",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Also send for the reasons that were already open when the rule was "
                    "switched on. Off: only reasons opened afterwards get a message."
                ),
                verbose_name="include the backlog",
            ),
        ),
    ]
