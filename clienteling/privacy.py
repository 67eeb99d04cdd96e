"""A client's data rights and duplicates, whole: each operation composes the customers
half with the appointments half, here in the top layer, because `customers` never
imports `appointments`. Every interface (the admin's actions, the export API) calls
these, never the halves.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from appointments.services.privacy import (
    customer_erase_appointments,
    customer_export_appointments,
    customer_merge_appointments,
    makeover_files_delete,
)
from clienteling.core.errors import ApplicationError
from customers import services as customer_services
from customers.models import AuditEvent, Customer
from customers.services.privacy import (
    EXPORT_FORMAT,
    admin_history_scrub,
    customer_erase_own,
    customer_export_own,
    customer_identifiers,
    manages_store,
    privacy_audit,
)


def customer_export(
    *,
    customer: Customer,
    request: HttpRequest | None = None,
    by: AbstractBaseUser | None = None,
) -> dict[str, Any]:
    """Everything held about one client, as one JSON-ready document, and its audit event.

    Who may ask is the interface's check (a manager of the client's store, or a
    superuser); the audit event records who did, from `request` or `by`.
    """
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "customer_id": customer.pk,
        **customer_export_own(customer=customer),
        **customer_export_appointments(customer=customer),
    }
    privacy_audit(
        action=AuditEvent.Action.EXPORT,
        customer=customer,
        customer_ref=customer.pk,
        by=by,
        request=request,
        detail={"format": EXPORT_FORMAT},
    )
    return document


def customer_erase(
    *, customer: Customer, by: AbstractBaseUser, request: HttpRequest | None = None
) -> dict[str, int]:
    """Erase a client everywhere, in one transaction (see the two halves for what goes
    and what stays), scrub the admin's history of them, and audit it with counts only.

    Makeover files are deleted once the transaction commits (a rollback keeps them with
    their rows). Erasing an erased client finds nothing more and is audited again.
    Refused (ApplicationError) to anyone but a manager of the client's store or a
    superuser. Returns the counts, by what they are.
    """
    with transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        if locked is None:
            raise ApplicationError("This client is no longer on file.")
        if not manages_store(user=by, store_id=locked.home_store_id):
            raise ApplicationError("Only a manager of the client's store can erase them.")
        # Read before anything is blanked: what to look for in free text.
        terms = customer_identifiers(locked)
        erasure = customer_erase_appointments(customer=locked)
        erasure.merge(customer_erase_own(customer=locked))
        erasure.counts["admin_history_scrubbed"] = admin_history_scrub(
            touched=erasure.touched, terms=terms
        )
        event = privacy_audit(
            action=AuditEvent.Action.ERASE,
            customer=locked,
            customer_ref=locked.pk,
            by=by,
            request=request,
            detail={"counts": erasure.counts},
        )
        # Its own address may name them (the admin list searched: "?q=<name>").
        if "?" in event.path:
            AuditEvent.objects.filter(pk=event.pk).update(path=event.path.split("?", 1)[0])
        files = list(erasure.files)
        transaction.on_commit(lambda: makeover_files_delete(files))
    customer.refresh_from_db()
    return erasure.counts


def customer_merge(
    *,
    survivor: Customer,
    duplicate: Customer,
    by: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> Customer:
    """Merge two records of one client: the appointments' rows move to the survivor,
    then the customers half moves the rest and deletes the duplicate
    (`customers.services.customer_merge` says what wins). One transaction; audited on
    both ids. Refused (ApplicationError) as the customers half refuses."""
    customer_services.customer_merge_check(survivor=survivor, duplicate=duplicate, by=by)
    with transaction.atomic():
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=[survivor.pk, duplicate.pk])
            .order_by("pk")
        )
        moved = customer_merge_appointments(survivor=survivor, duplicate=duplicate)
        return customer_services.customer_merge(
            survivor=survivor, duplicate=duplicate, by=by, request=request, also_moved=moved
        )
