from django.db import migrations

from clienteling.core.db import run_on_postgresql

# Search's two name B-trees (migration 0025) become covering indexes: they also carry the
# columns of who may see a client (home store, assigned associate, erased) and, for the
# last-name one, the names its keys are computed from. A pass then checks its scope on
# the index alone (an index-only scan) instead of reading each row it skips: the one-word
# typo pass read, for each close word, that word's clients of other stores from the
# table (4 to 5 ms a word at 1,000,000 clients), and a name only other stores have read
# all of its 5,115 holders (~45 ms). Built CONCURRENTLY, new before old, so that a live
# store never searches without one nor stops writing clients while they are built
# (hence a migration outside a transaction). PostgreSQL only, as 0025.
LAST = "customer_search_last_cover"
NAME = "customer_search_name_cover"
SCOPE = "home_store_id, assigned_associate_id, erased_at"
POSTGRES_FORWARD = [
    # A build cut short leaves an invalid index behind: start again from nothing.
    f"DROP INDEX CONCURRENTLY IF EXISTS {LAST}",
    f"CREATE INDEX CONCURRENTLY {LAST} ON customers_customer "
    '((lower(last_name) COLLATE "C"), (lower(first_name) COLLATE "C"), id) '
    f"INCLUDE ({SCOPE}, last_name, first_name)",
    "DROP INDEX CONCURRENTLY IF EXISTS customer_search_last_prefix",
    f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
    f'CREATE INDEX CONCURRENTLY {NAME} ON customers_customer ((search_name COLLATE "C"), id) '
    f"INCLUDE ({SCOPE})",
    "DROP INDEX CONCURRENTLY IF EXISTS customer_search_name_prefix",
]
POSTGRES_BACKWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS customer_search_last_prefix ON customers_customer "
    '((lower(last_name) COLLATE "C"), (lower(first_name) COLLATE "C"), id)',
    f"DROP INDEX CONCURRENTLY IF EXISTS {LAST}",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS customer_search_name_prefix ON customers_customer "
    '((search_name COLLATE "C"), id)',
    f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
]


def cover(apps, schema_editor):
    run_on_postgresql(schema_editor, POSTGRES_FORWARD)


def uncover(apps, schema_editor):
    run_on_postgresql(schema_editor, POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("customers", "0026_name_words"),
    ]

    operations = [
        migrations.RunPython(cover, uncover, elidable=False),
    ]
