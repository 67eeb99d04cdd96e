"""What rings a phone about a client: the client wrote back. Web Push itself (the outbox,
the worker) is `clienteling.push`; this says who hears it and what it says."""

from __future__ import annotations

from django.urls import reverse

from clienteling.channels import channel as channel_spec
from clienteling.push import services as push
from clienteling.push.models import Notice
from clienteling.stores.models import StaffMember

from ..models import Customer


def client_replied_notify(*, customer: Customer, channel: str) -> int:
    """Ring the client's associate, or everyone on the floor of the client's store when the
    client has none (or theirs left): people who may open the card, so the first name is
    theirs to read. The message itself stays in the app, never on a lock screen."""
    if not push.push_enabled():
        return 0
    associate = customer.assigned_associate
    if associate is not None and associate.user.is_active:
        user_ids = [associate.user_id]
    elif customer.home_store_id:
        user_ids = list(
            StaffMember.objects.filter(store_id=customer.home_store_id)
            .active()
            .associates()
            .values_list("user_id", flat=True)
        )
    else:
        return 0
    return push.notify(
        user_ids=user_ids,
        kind=Notice.Kind.CLIENT_REPLIED,
        tag=f"client-{customer.pk}",
        title=f"{customer.first_name} wrote back",
        body=f"{channel_spec(channel).by.capitalize()}: open the conversation.",
        url=reverse("customers:conversation", args=[customer.pk]),
    )
