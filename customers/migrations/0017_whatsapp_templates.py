# WhatsApp's approved templates (Twilio Content SIDs) on message templates, and the
# variables a message sent as one carries.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0016_sms_suppression_inbound"),
    ]

    operations = [
        migrations.AddField(
            model_name="messagetemplate",
            name="whatsapp_content_sid",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The approved WhatsApp template in Twilio (HX…): it can go to a client who "
                    "last wrote on WhatsApp more than 24 hours ago."
                ),
                max_length=34,
                validators=[
                    django.core.validators.RegexValidator(
                        "^HX[0-9a-fA-F]{32}$", "A Content SID is HX and 32 hex digits."
                    )
                ],
                verbose_name="WhatsApp template (Content SID)",
            ),
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="whatsapp_variables",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The variables of the approved template's {{1}}, {{2}}…, in order, "
                    "separated by commas: e.g. first_name, store."
                ),
                max_length=200,
                verbose_name="WhatsApp template variables",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="template_variables",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
