"""Create (or reuse) an account for a POS or e-commerce integration and issue an API key.

The key is printed once and kept only as a digest: run again with --rotate for a new key
(the old ones stop working), or --add for a second key while an integration switches.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clienteling.integrations.models import ALL_SCOPES, IntegrationToken
from clienteling.stores.models import Store


class Command(BaseCommand):
    help = (
        "Create an integration account allowed to push data through /api/v1/ and print a "
        "new API key (shown once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="A short name, e.g. pos or shopify.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--rotate",
            action="store_true",
            help="Issue a new key and revoke the account's other keys.",
        )
        mode.add_argument(
            "--add", action="store_true", help="Issue another key, keeping the others."
        )
        parser.add_argument(
            "--scopes",
            default=",".join(ALL_SCOPES),
            help=f"Comma-separated scopes of the key (default all: {', '.join(ALL_SCOPES)}).",
        )
        parser.add_argument(
            "--store",
            default="",
            help="A store's code: the key (a till's) reads back that store's clients only.",
        )

    @transaction.atomic
    def handle(self, *args, name: str, rotate: bool, add: bool, scopes: str, **options):
        store = None
        if options.get("store"):
            store = Store.objects.filter(code=options["store"]).first()
            if store is None:
                raise CommandError(f"No store has the code “{options['store']}”.")
        name = name.strip().lower()
        if not name.replace("-", "").isalnum():
            raise CommandError("Use letters, digits and dashes only, e.g. “pos” or “web-shop”.")
        wanted = sorted({scope.strip() for scope in scopes.split(",") if scope.strip()})
        if not wanted or set(wanted) - set(ALL_SCOPES):
            raise CommandError(f"Scopes are some of: {', '.join(ALL_SCOPES)}.")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=f"integration-{name}", defaults={"first_name": name, "is_active": True}
        )
        if created:
            # An integration never signs in to pages: it has no usable password.
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.user_permissions.add(
            Permission.objects.get(codename="ingest_data", content_type__app_label="customers")
        )
        active = IntegrationToken.objects.usable().filter(user=user)
        if active.exists() and not (rotate or add):
            prefixes = ", ".join(f"{token.prefix}…" for token in active)
            raise CommandError(
                f"{user.username} already has a key ({prefixes}); keys are shown only once. "
                "Use --rotate for a new key (the old one stops working) or --add for another."
            )
        if rotate:
            active.update(revoked_at=timezone.now())
        token, key = IntegrationToken.issue(user=user, name=name, scopes=wanted, store=store)
        self.stdout.write(
            f"{'Created' if created else 'Reused'} integration account {user.username}; "
            f"new key {token.prefix}… with scopes {', '.join(token.scopes)} (shown once)."
        )
        self.stdout.write(f"Authorization: Token {key}")
