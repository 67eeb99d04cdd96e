"""The why of a recommendation: the sentences an associate reads on the client card."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clienteling.core import formats

from ...models import EngagementEvent
from .catalog import _Catalog, _Item
from .facts import ClientFacts, _Loves
from .tuning import WHY_MAX


def _why(
    client: ClientFacts,
    item: _Item,
    parts: dict[str, float],
    context: dict,
    catalog: _Catalog,
    loves: _Loves,
    bridges: dict[int, tuple[float, int]],
    local_now: datetime.datetime,
) -> str:
    """One or a few sentences an associate can read aloud, strongest reason first.

    `local_now`: the refresh's time in the default zone, worked out once per client by the
    caller (asking for the current zone for each sentence was 10% of a full refresh)."""
    sentences: list[str] = []
    source = catalog.items.get(context.get("from_product", 0))
    bought_with = f"clients who bought the {source.name} also chose this" if source else ""
    if "new_category" in parts:
        loved = catalog.category_label(context["loved_category"])
        new = catalog.category_label(item.category_id)
        years = (
            local_now.year * 12 + local_now.month - loves.since[context["loved_category"]]
        ) // 12
        bought = f"Bought {loved} here for {years} years" if years >= 2 else f"Bought {loved} here"
        share = f"{bridges[item.category_id][0]:.0%} of clients who buy {loved} also buy {new}"
        sentences.append(f"{bought}, never {new}: {bought_with or share}.")
    elif bought_with:
        sentences.append(f"{bought_with[0].upper()}{bought_with[1:]}.")
    if "favourite" in parts:
        kind, when = client.interest[item.id]
        did = (
            "Saved it as a favourite"
            if kind == EngagementEvent.Kind.FAVOURITE
            else "Left it in a cart"
        )
        sentences.append(
            f"{did} on {formats.day(timezone.localtime(when, local_now.tzinfo).date())}."
        )
    if "liked_brand" in parts:
        sentences.append(f"{item.brand}, a brand {client.first_name} loves.")
    elif "brand_loyalty" in parts:
        sentences.append(
            f"{loves.per_brand[item.brand_id]} of {client.first_name}'s {loves.pieces} purchases are {item.brand}."
        )
    if "size_in_stock" in parts:
        size = client.sizes[item.category_id]
        if catalog.size_here(item.id, size, client.home_store_id):
            sentences.append(f"In stock in {client.first_name}'s size {size} at the home store.")
        else:
            sentences.append(f"In stock in {client.first_name}'s size {size}.")
    if "liked_colour" in parts:
        sentences.append(f"In {item.colour}, a colour {client.first_name} likes.")
    if "liked_category" in parts and "new_category" not in parts:
        sentences.append(
            f"{catalog.category_names[item.category_id]}, which {client.first_name} asked for."
        )
    if not sentences and "category_share" in parts:
        category = catalog.category_label(item.category_id)
        times = loves.per_category[item.category_id]
        sentences.append(
            f"More {category}: {times} of {client.first_name}'s {loves.pieces} purchases are {category}."
        )
    if not sentences:
        sentences.append(f"One of our most bought {catalog.category_label(item.category_id)}.")
    why = sentences[0][:WHY_MAX]
    for sentence in sentences[1:]:
        if len(why) + 1 + len(sentence) <= WHY_MAX:
            why = f"{why} {sentence}"
    return why
