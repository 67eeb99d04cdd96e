import secrets

from django.db import migrations, models

import clienteling.stores.models


def fill_tokens(apps, schema_editor):
    Store = apps.get_model("stores", "Store")
    for store in Store.objects.filter(signup_token__isnull=True):
        store.signup_token = secrets.token_urlsafe(16)
        store.save(update_fields=["signup_token"])


class Migration(migrations.Migration):
    dependencies = [("stores", "0001_initial")]

    operations = [
        # Existing stores each need their own token: add it empty, fill it, then make it unique.
        migrations.AddField(
            model_name="store",
            name="signup_token",
            field=models.CharField(max_length=32, null=True, editable=False),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="store",
            name="signup_token",
            field=models.CharField(
                default=clienteling.stores.models.new_signup_token, editable=False, max_length=32, unique=True
            ),
        ),
    ]
