"""Keys issued before integration tokens existed (DRF's authtoken, stored in plain text)
become hashed tokens with every scope, so integrations keep working with the key they
have; the plain-text copies are then deleted. The authtoken app is no longer installed,
so its table is read with SQL where it exists."""

import hashlib

from django.db import migrations

SCOPES = ["customers:write", "events:write", "orders:write"]


def hash_old_tokens(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if "authtoken_token" not in connection.introspection.table_names(cursor):
            return
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
        IntegrationToken = apps.get_model("integrations", "IntegrationToken")
        for key, user_id, created in rows:
            token = IntegrationToken.objects.create(
                name="Key from before scopes",
                user_id=user_id,
                prefix=key[:10],
                key_digest=hashlib.sha256(key.encode()).hexdigest(),
                scopes=SCOPES,
            )
            IntegrationToken.objects.filter(pk=token.pk).update(created_at=created)
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_integration_tokens")]

    operations = [migrations.RunPython(hash_old_tokens, migrations.RunPython.noop)]
