"""The store's last month, so a manager's first look is not empty: contacts that led to
sales (attributed on /performance/), messages sent from the store (an A/B wording of the
thank-you automation: an experiment), and fitting-room visits with pages answered in a
minute or two, plus one page waiting for the story associate right now (the pager).

Written directly (bulk inserts, nothing queued for the worker), after the clients, their
orders and the rooms exist; deterministic for a seed and a day.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict

from django.utils import timezone

from appointments.models import Page, Room, Visit
from clienteling.stores.models import StaffMember, Store
from customers.models import (
    AutomationRule,
    Contact,
    Message,
    MessageTemplate,
    MessageTemplateVariant,
    Order,
    Reason,
)

from . import data

DAYS = 28
# Share of last month's in-store orders that an associate's call or message came before.
ATTRIBUTED_SHARE = 0.45
VISITS_PER_DAY = (2, 5)
CALLS = [
    (Contact.Channel.PHONE, Contact.Outcome.REACHED, "Called about the new arrivals in her size."),
    (Contact.Channel.PHONE, Contact.Outcome.BOOKED, "Booked a fitting for Saturday morning."),
    (Contact.Channel.IN_PERSON, Contact.Outcome.REACHED, "Came by; showed the new knitwear."),
    ("email", Contact.Outcome.SENT, "Sent a few pieces chosen for the season."),
]
MISSED = [
    (Contact.Channel.PHONE, Contact.Outcome.NO_ANSWER, ""),
    (Contact.Channel.PHONE, Contact.Outcome.LEFT_MESSAGE, "Left a message about the alteration."),
    (Contact.Channel.PHONE, Contact.Outcome.NOT_INTERESTED, "Not shopping until spring."),
]
WORDINGS = {
    "A": "Thank you for your visit, {{ first_name }}. It was a pleasure to see you.",
    "B": "{{ first_name }}, thank you for choosing us today. I'm here whenever you need me.",
}


def build_month(*, rng: random.Random, today: datetime.date) -> dict[str, int]:
    """Contacts, messages, an experiment and fitting-room pages over the last DAYS days."""
    now = timezone.now()
    start = now - datetime.timedelta(days=DAYS)
    floor = defaultdict(list)
    for staff in StaffMember.objects.select_related("user").order_by("pk"):
        if staff.role != StaffMember.Role.MANAGER:
            floor[staff.store_id].append(staff)
    counts = {"contacts": 0, "messages": 0, "fitting-room pages": 0}

    # Calls and visits before an order (attributed), and some that led nowhere yet.
    orders = list(
        Order.objects.filter(placed_at__gte=start, placed_at__lt=now, store__isnull=False)
        .select_related("customer")
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "store_id",
            "placed_at",
            "customer__assigned_associate",
            "customer__first_name",
        )
    )
    contacts: list[Contact] = []
    messages: list[Message] = []
    template = MessageTemplate.objects.create(
        name="Thank you after a visit (A/B)",
        purpose=Reason.Kind.THANK_YOU,
        channel="email",
        subject="Thank you",
        body=WORDINGS["A"],
    )
    MessageTemplateVariant.objects.bulk_create(
        [
            MessageTemplateVariant(template=template, letter=letter, body=body)
            for letter, body in WORDINGS.items()
        ]
    )
    AutomationRule.objects.create(
        reason_kind=Reason.Kind.THANK_YOU,
        mode=AutomationRule.Mode.DRAFT,
        template=template,
        is_marketing=False,
        is_active=True,
    )
    staff_by_pk = {staff.pk: staff for team in floor.values() for staff in team}
    for number, (order_id, customer_id, store_id, placed_at, assigned, first_name) in enumerate(
        orders
    ):
        team = floor.get(store_id)
        if not team:
            continue
        who = staff_by_pk.get(assigned) or rng.choice(team)
        if rng.random() < ATTRIBUTED_SHARE:
            channel, outcome, body = rng.choice(CALLS)
            contacts.append(
                Contact(
                    customer_id=customer_id,
                    staff_id=who.user_id,
                    channel=channel,
                    outcome=outcome,
                    body=body,
                    occurred_at=placed_at - datetime.timedelta(days=rng.uniform(0.5, 6)),
                )
            )
        # A thank-you after most in-store orders, worded A or B (the experiment).
        if rng.random() < 0.6 and placed_at + datetime.timedelta(hours=2) < now:
            letter = "A" if rng.random() < 0.5 else "B"
            sent_at = placed_at + datetime.timedelta(hours=rng.uniform(2, 20))
            if sent_at >= now:
                continue
            messages.append(
                Message(
                    customer_id=customer_id,
                    channel="email",
                    purpose=Reason.Kind.THANK_YOU,
                    is_marketing=False,
                    subject="Thank you",
                    body=WORDINGS[letter].replace("{{ first_name }}", first_name),
                    sender_id=who.user_id,
                    store_id=store_id,
                    template=template,
                    variant=letter,
                    status=Message.Status.DELIVERED,
                    dedupe_key=f"demo-thanks:{order_id}",
                    scheduled_for=sent_at,
                    sent_at=sent_at,
                    delivered_at=sent_at + datetime.timedelta(seconds=40),
                )
            )
        if number % 3 == 0:
            channel, outcome, body = rng.choice(MISSED)
            contacts.append(
                Contact(
                    customer_id=customer_id,
                    staff_id=rng.choice(team).user_id,
                    channel=channel,
                    outcome=outcome,
                    body=body,
                    occurred_at=start + datetime.timedelta(days=rng.uniform(0, DAYS - 1)),
                )
            )
    created = Message.objects.bulk_create(messages)
    for message in created:
        contacts.append(
            Contact(
                customer_id=message.customer_id,
                staff_id=message.sender_id,
                channel="email",
                outcome=Contact.Outcome.SENT,
                body=message.body,
                message=message,
                occurred_at=message.sent_at,
            )
        )
    Contact.objects.bulk_create(contacts)
    counts["contacts"], counts["messages"] = len(contacts), len(created)
    counts["fitting-room pages"] = _fitting_rooms(rng=rng, floor=floor, now=now)
    return counts


def _fitting_rooms(*, rng: random.Random, floor: dict, now: datetime.datetime) -> int:
    """Visits of the last DAYS days, each with a page or two answered within minutes; and
    one page waiting now in the story associate's store, for them first."""
    rooms = defaultdict(list)
    for room in Room.objects.order_by("store_id", "position"):
        rooms[room.store_id].append(room)
    store_clients = defaultdict(list)
    for store_id, customer_id in (
        Order.objects.filter(placed_at__gte=now - datetime.timedelta(days=DAYS))
        .exclude(store__isnull=True)
        .order_by("pk")
        .values_list("store_id", "customer_id")
    ):
        store_clients[store_id].append(customer_id)
    visits: list[Visit] = []
    pending: list[tuple[int, Page]] = []
    for store_id, team in sorted(floor.items()):
        if not rooms[store_id] or not store_clients[store_id]:
            continue
        for day in range(1, DAYS + 1):
            opening = now.replace(hour=15, minute=0, second=0, microsecond=0)
            opening -= datetime.timedelta(days=day)
            for slot in range(rng.randint(*VISITS_PER_DAY)):
                room = rooms[store_id][slot % len(rooms[store_id])]
                associate = rng.choice(team)
                started = opening + datetime.timedelta(minutes=45 * slot + rng.randint(0, 20))
                visit = Visit(
                    room=room,
                    associate=associate,
                    customer_id=rng.choice(store_clients[store_id]),
                    started_at=started,
                    checked_in_at=started,
                    ended_at=started + datetime.timedelta(minutes=35),
                )
                visits.append(visit)
                for page_number in range(rng.randint(1, 2)):
                    created = started + datetime.timedelta(minutes=5 + 12 * page_number)
                    answered = created + datetime.timedelta(seconds=rng.randint(25, 240))
                    taker = associate if rng.random() < 0.7 else rng.choice(team)
                    pending.append(
                        (
                            len(visits) - 1,
                            Page(
                                store_id=store_id,
                                room=room,
                                kind=rng.choice(
                                    [
                                        Page.Kind.SIZE,
                                        Page.Kind.SIZE,
                                        Page.Kind.COLOUR,
                                        Page.Kind.HELP,
                                    ]
                                ),
                                size=rng.choice(["36", "38", "40", "M"]),
                                target=associate,
                                created_at=created,
                                acknowledged_at=answered,
                                acknowledged_by=taker,
                                resolved_at=answered
                                + datetime.timedelta(minutes=rng.randint(2, 8)),
                                resolved_by=taker,
                            ),
                        )
                    )
    # Now, in the story associate's store: a client in Room 2 asks for another size.
    story_store = Store.objects.get(code=data.STORY_CLIENT.store_code)
    story_associate = StaffMember.objects.get(user__username=data.STORY_ASSOCIATE)
    room = rooms[story_store.pk][1]
    waiting = Visit(
        room=room,
        associate=story_associate,
        customer_id=store_clients[story_store.pk][0] if store_clients[story_store.pk] else None,
        started_at=now - datetime.timedelta(minutes=12),
        checked_in_at=now - datetime.timedelta(minutes=12),
    )
    visits.append(waiting)
    pending.append(
        (
            len(visits) - 1,
            Page(
                store=story_store,
                room=room,
                kind=Page.Kind.SIZE,
                item_name="Harper Suede Slingback",
                size="38",
                target=story_associate,
                created_at=now - datetime.timedelta(minutes=1),
            ),
        )
    )
    Visit.objects.bulk_create(visits)
    pages = []
    for index, page in pending:
        page.visit = visits[index]
        pages.append(page)
    Page.objects.bulk_create(pages)
    return len(pages)
