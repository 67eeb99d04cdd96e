"""The client of our story, always the first one: Claire Dubois.

Eight years a client of the SoHo store, Platinum, about $25,000 spent, and only ever on
dresses, always in person with her associate. The demo is built around her: the app
should show that she has never been offered shoes or bags, though she has mentioned
needing both and has lately favourited some online.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Q

from clienteling.catalog.models import Product
from customers.models import (
    ConsentEvent,
    Customer,
    EngagementEvent,
    Note,
    Preference,
    Size,
    Source,
    UnsentChannel,
)

from . import data
from .clients import REVOCATION_SOURCES, ClientGenerator, Profile, cumulative
from .rows import ALTERATION_COLLECTED, ALTERATION_READY, NO_ALTERATION, Rows

if TYPE_CHECKING:
    from .catalog import ProductRef


def _heels(generator: ClientGenerator) -> list[ProductRef]:
    """The heels of the demo catalog (pumps, slingbacks): what she asked for, comfortable
    heels for client dinners. One query: the generator knows products without names."""
    heel_ids = set(
        Product.objects.filter(category__slug="shoes")
        .filter(Q(name__icontains="pump") | Q(name__icontains="slingback"))
        .values_list("pk", flat=True)
    )
    heels = [p for p in generator.products_by_kind["shoes"] if p.id in heel_ids]
    return heels if len(heels) >= 3 else generator.products_by_kind["shoes"]


def add_story_client(generator: ClientGenerator, rows: Rows) -> None:
    """Claire: eight years a member, Platinum, about $25,000, and only ever dresses.

    Her orders are all in store with her associate, so the demo can show what a
    clienteling app is for: she has never been shown shoes or bags.
    """
    rng = generator.rng
    story = data.STORY_CLIENT
    store = generator.stores_by_code[story.store_code]
    # A month more than her years, and her first dress within days of joining: "client
    # since" and "bought dresses here for N years" then say the same N whatever the day.
    joined_days_ago = story.years_a_member * 365.25 + 30
    client = Profile(
        id=generator.ids[Customer].take(),
        ordinal=0,
        store=store,
        segment="loyal",
        joined_days_ago=joined_days_ago,
        channel_weights=(1.0, 0.0, 0.0),
        taste=cumulative([1, 0, 0, 0, 0]),
        dress_size=story.dress_size,
        shoe_size=story.shoe_size,
        assigned=generator.team.story_associate,
        favourite_brands=["Maison Verlaine", "Marguerite Lenoir"],
        drifting=False,
    )
    dresses = [
        dress for dress in generator.products_by_kind["dresses"] if story.dress_size in dress.sizes
    ]
    target = story.target_lifetime_value * 100
    rate = store.spec.tax_rate
    # Dresses, one per visit, until her lifetime value is within a few hundred of the
    # target; each visit is placed later, spread evenly over her years as a member.
    chosen: list[ProductRef] = []
    spent = 0
    while True:
        remaining = target - spent
        fitting = [
            dress
            for dress in dresses
            if round(dress.price_cents * (1 + rate)) <= remaining + 30_000
        ]
        if not fitting or remaining < 20_000:
            break
        dress = rng.choice(fitting)
        chosen.append(dress)
        spent += dress.price_cents + round(dress.price_cents * rate)
    step = (joined_days_ago - 25) / len(chosen)
    for number, dress in enumerate(chosen):
        days_ago = (
            joined_days_ago - 2 - number * step - (rng.uniform(0, step * 0.5) if number else 0)
        )
        # Her latest dress, bought 18 days ago, is at the tailor and ready to collect:
        # a reason to call her today.
        if number == len(chosen) - 1:
            days_ago = 18
            alteration = (ALTERATION_READY, generator.today - datetime.timedelta(days=2))
        elif number % 5 == 2:
            alteration = (
                ALTERATION_COLLECTED,
                generator.day(days_ago) + datetime.timedelta(days=7),
            )
        else:
            alteration = (NO_ALTERATION, None)
        generator.order(rows, client, days_ago, [dress], in_person=True, alteration=alteration)
    client.bought_online = True  # she has an account online, where she browses
    generator.customer_row(
        rows,
        client,
        first_name=story.first_name,
        last_name=story.last_name,
        email=story.email,
        phone=story.phone,
        birthday=datetime.date(1979, generator.today.month, min(generator.today.day + 6, 28)),
        anniversary=None,
        time_zone="",
        joined_via=Customer.JoinedVia.IN_STORE,
        situation=story.situation,
        situation_updated_at=generator.at(40),
    )
    ava_user = client.assigned[1]
    consents = rows.tables["consents"]
    for channel, granted, days_ago in (
        ("email", True, joined_days_ago - 0.001),
        (UnsentChannel.PHONE, True, joined_days_ago - 0.001),
        ("sms", True, 900),
        ("sms", False, 300),
    ):
        wording = data.CONSENT_WORDING[channel] if granted else data.REVOCATION_WORDING[channel]
        source = Source.ASSOCIATE if granted else REVOCATION_SOURCES[channel]
        consents.append(
            (
                generator.ids[ConsentEvent].take(),
                client.id,
                channel,
                granted,
                source,
                wording,
                generator.at(days_ago),
                ava_user if granted else None,
            )
        )
    rows.tables["contact_preferences"].append(
        (
            client.id,
            "email",
            2,
            datetime.time(21),
            datetime.time(8),
            # She turned down points-only offers (her note says so), not offers tied to
            # what she wants: "offers" is not declined, so her shoes offer can open
            # (clienteling.demo.offers). Another client declines them, and gets none.
            [],
            generator.at(300),
        )
    )
    categories = generator.catalog.categories
    rows.tables["sizes"].extend(
        [
            (
                generator.ids[Size].take(),
                client.id,
                categories["dresses"],
                story.dress_size,
                Size.Fit.SLIM,
                Source.ASSOCIATE,
                generator.at(2000),
            ),
            (
                generator.ids[Size].take(),
                client.id,
                categories["shoes"],
                story.shoe_size,
                "",
                Source.CLIENT,
                generator.at(200),
            ),
        ]
    )
    brands = generator.catalog.brands
    for kind, sentiment, value, brand_id in (
        (Preference.Kind.COLOUR, Preference.Sentiment.LIKE, "navy", None),
        (Preference.Kind.COLOUR, Preference.Sentiment.LIKE, "emerald", None),
        (Preference.Kind.COLOUR, Preference.Sentiment.AVOID, "mustard", None),
        (
            Preference.Kind.BRAND,
            Preference.Sentiment.LIKE,
            "Maison Verlaine",
            brands["Maison Verlaine"],
        ),
        (Preference.Kind.STYLE, Preference.Sentiment.LIKE, "wrap silhouettes", None),
        (Preference.Kind.OCCASION, Preference.Sentiment.LIKE, "client dinners", None),
        # Her own words: comfortable heels for those dinners (the card leads with them).
        (Preference.Kind.CATEGORY, Preference.Sentiment.LIKE, "Shoes", None),
    ):
        rows.tables["preferences"].append(
            (
                generator.ids[Preference].take(),
                client.id,
                kind,
                sentiment,
                value,
                brand_id,
                categories["shoes"] if kind == Preference.Kind.CATEGORY else None,
                Source.ASSOCIATE,
                generator.at(500),
            )
        )
    for text, pinned, days_ago in (
        (story.note, True, 30),
        (
            "Bought the navy wrap dress for her promotion dinner; sent a thank-you card.",
            False,
            400,
        ),
    ):
        created_at = generator.at(days_ago)
        rows.tables["notes"].append(
            (generator.ids[Note].take(), client.id, ava_user, text, pinned, created_at, created_at)
        )
    # Steady email engagement, and lately favourites among shoes and bags: the
    # categories she has never bought.
    generator.events(rows, client, count=60)
    events = rows.tables["events"]
    for number, product in enumerate(
        rng.sample(_heels(generator), 3) + rng.sample(generator.products_by_kind["bags"], 2)
    ):
        generator.event_ordinal += 1
        occurred_at = generator.at(3 + number * 4 + rng.random())
        events.append(
            (
                generator.ids[EngagementEvent].take(),
                client.id,
                EngagementEvent.Kind.FAVOURITE.value,
                product.id,
                occurred_at,
                Source.ECOMMERCE.value,
                f"ev-{generator.event_ordinal:010d}",
                occurred_at,
            )
        )
    rows.customer_ids.append(client.id)
