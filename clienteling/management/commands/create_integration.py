"""Create (or reuse) an account for a POS or e-commerce integration and print its API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Create an integration account allowed to push data through /api/v1/ and print its token."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="A short name, e.g. pos or shopify.")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace an existing token with a new one."
        )

    @transaction.atomic
    def handle(self, *args, name: str, rotate: bool, **options):
        name = name.strip().lower()
        if not name.replace("-", "").isalnum():
            raise CommandError("Use letters, digits and dashes only, e.g. “pos” or “web-shop”.")
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
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(
            f"{'Created' if created else 'Reused'} integration account {user.username}."
        )
        self.stdout.write(f"Authorization: Token {token.key}")
