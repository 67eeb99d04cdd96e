"""Curated selections: a few pieces an associate picks for one client, sent as a phone page."""

from __future__ import annotations

import datetime
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.catalog.stock import stock_map
from clienteling.core.errors import ApplicationError
from clienteling.core.http import absolute_url

from ..models import Contact, Customer, Reason, Selection, SelectionItem
from .contacts import contact_log
from .reasons import Candidate, reasons_open
from .wording import message_wording

SELECTION_DAYS = 14
MAX_ITEMS = 8
SELECTION_PURPOSE = "selection"
# When the associate writes no note: a manager's template for "selection" wins (see
# customers.services.wording for its variables).
DEFAULT_WORDS = "Hi {{ first_name }}, I picked a few pieces for you.\n\n{{ link }}"


def selection_url(selection: Selection) -> str:
    # Sent to the client in a message: on SITE_URL, never a request's host.
    return absolute_url(reverse("selection", args=[selection.token]))


@transaction.atomic
def selection_send(
    *,
    customer: Customer,
    staff_user: AbstractBaseUser,
    product_ids: list[int],
    note: str,
    channel: str,
) -> Selection:
    """Create the selection and send its link through the outbox (consent and policy apply).

    If the policy refuses the channel, nothing is saved and the error says why.
    """
    if not product_ids:
        raise ApplicationError("Pick at least one piece.", field="products")
    if len(set(product_ids)) > MAX_ITEMS:
        raise ApplicationError(
            f"Pick at most {MAX_ITEMS} pieces: a selection, not a catalogue.", field="products"
        )
    products = {
        product.pk: product
        for product in Product.objects.filter(pk__in=product_ids, is_active=True)
    }
    if len(products) != len(set(product_ids)):
        raise ApplicationError("Some of these pieces are no longer sold.", field="products")
    sizes = {size.category_id: size.size for size in customer.sizes.all()}
    selection = Selection.objects.create(
        customer=customer,
        created_by=staff_user,
        token=secrets.token_urlsafe(24),
        note=note.strip(),
        expires_at=timezone.now() + datetime.timedelta(days=SELECTION_DAYS),
    )
    items = []
    for position, product_id in enumerate(dict.fromkeys(product_ids)):
        product = products[product_id]
        size = sizes.get(product.category_id, "")
        items.append(
            SelectionItem(
                selection=selection,
                product=product,
                size=size if size in (product.sizes or []) else "",
                position=position,
            )
        )
    SelectionItem.objects.bulk_create(items)
    link = selection_url(selection)
    if selection.note:
        # The associate's own words go as written.
        body = f"{selection.note}\n\n{link}"
    else:
        body = message_wording(
            purpose=SELECTION_PURPOSE,
            channel=channel,
            context={
                "first_name": customer.first_name,
                "associate": staff_user.get_full_name() or staff_user.get_username(),
                "store": customer.home_store.name,
                "link": link,
            },
            default=DEFAULT_WORDS,
        )
        if link not in body:  # a template that forgot the link would send nothing useful
            body = f"{body}\n\n{link}"
    contact_log(
        customer=customer,
        staff_user=staff_user,
        channel=channel,
        outcome=Contact.Outcome.SENT,
        body=body,
        subject=f"Picked for you at {customer.home_store.name}",
    )
    return selection


def selection_items_where(*, selection: Selection, items: list[SelectionItem]) -> None:
    """Say, on each item, whether the client's store holds it in their size (`here`:
    True, False, or None when its stock is not counted per store) and which other stores
    do (`elsewhere`, names). One query for all the items."""
    stock = stock_map(item.product_id for item in items)
    store_id = selection.customer.home_store_id
    for item in items:
        item.here = stock.here(item.product_id, item.size, store_id)
        item.elsewhere = stock.elsewhere(item.product_id, item.size, store_id)


def selection_hold(*, item: SelectionItem) -> bool:
    """The client asked to hold a piece: their associate sees it on Today (once per piece)."""
    if not SelectionItem.objects.filter(pk=item.pk, hold_requested_at__isnull=True).update(
        hold_requested_at=timezone.now()
    ):
        return False
    customer = item.selection.customer
    size = f" in {item.size}" if item.size else ""
    reasons_open(
        kind=Reason.Kind.CLIENT_REPLIED,
        candidates=[
            Candidate(
                customer_id=customer.pk,
                source_key=f"hold:{item.pk}",
                product_id=item.product_id,
                why=f"{customer.first_name} asked you to hold {item.product.name}{size} (from your selection).",
                due_on=timezone.localdate(),
            )
        ],
    )
    return True
