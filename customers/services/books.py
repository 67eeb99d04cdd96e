"""An associate's book belongs to the store: a manager hands it, or part of it, to a colleague."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clienteling.core.errors import ApplicationError
from clienteling.stores.models import StaffMember

from ..models import Customer
from ..selectors import book_size_forget
from .privacy import manages_store


def book_reassign(
    *,
    from_staff: StaffMember | None,
    to_staff: StaffMember,
    customer_ids: Iterable[int] | None = None,
    by: AbstractBaseUser,
) -> int:
    """Give `from_staff`'s clients (all, or only `customer_ids`) to `to_staff`.

    With `from_staff=None`, `customer_ids` are given whoever holds them now (the Customer
    admin's "Assign to associate…"); they must then be clients of `to_staff`'s store.
    One UPDATE whatever the size of the book; their reasons follow them to Today, as
    reasons are read through the client's associate. Returns how many clients moved.

    Refused (ApplicationError): an inactive or same person, a different store unless
    `by` is a superuser, and anyone but a manager of `to_staff`'s store.
    """
    ids = None if customer_ids is None else sorted({int(pk) for pk in customer_ids})
    if from_staff is None and ids is None:
        raise ApplicationError("Say whose clients, or which clients, to reassign.")
    if from_staff is not None and from_staff.pk == to_staff.pk:
        raise ApplicationError("Choose someone else to hand the clients to.", field="to_staff")
    if not to_staff.user.is_active:
        raise ApplicationError(
            f"{to_staff.display_name} no longer works here: choose an active colleague.",
            field="to_staff",
        )
    if from_staff is not None and from_staff.store_id != to_staff.store_id and not by.is_superuser:
        raise ApplicationError(
            "They work in different stores: only an administrator can move a book between stores.",
            field="to_staff",
        )
    if not manages_store(user=by, store_id=to_staff.store_id):
        raise ApplicationError("Only a manager of the store can reassign its clients.")
    clients = Customer.objects.all()
    if from_staff is not None:
        clients = clients.filter(assigned_associate=from_staff)
    if ids is not None:
        clients = clients.filter(pk__in=ids)
        if (
            from_staff is None
            and not by.is_superuser
            and clients.exclude(home_store_id=to_staff.store_id).exists()
        ):
            raise ApplicationError(
                "Some of these clients belong to another store: only an administrator can "
                "give them to an associate here.",
                field="to_staff",
            )
    with transaction.atomic():
        moving = clients.exclude(assigned_associate=to_staff)
        holders = (
            [from_staff.pk]
            if from_staff is not None
            else list(moving.values_list("assigned_associate_id", flat=True).distinct())
        )
        book_size_forget(to_staff.pk, *holders)
        return moving.update(assigned_associate=to_staff, updated_at=timezone.now())


def customer_claim(*, customer: Customer, staff: StaffMember) -> bool:
    """`staff` takes a client nobody looks after (no associate, or one who left) from the
    store queue: the client and their reasons are theirs from now on.

    A conditional UPDATE, so two people claiming at once give the client to one of them:
    returns False when someone else took them first. Refused (ApplicationError): a client
    of another store.
    """
    if customer.home_store_id != staff.store_id:
        raise ApplicationError("Only someone of the client's store can take them.")
    updated = (
        Customer.objects.filter(pk=customer.pk, home_store_id=staff.store_id)
        .filter(Q(assigned_associate__isnull=True) | Q(assigned_associate__user__is_active=False))
        .update(assigned_associate=staff, updated_at=timezone.now())
    )
    if updated:
        book_size_forget(staff.pk)
    return updated == 1
