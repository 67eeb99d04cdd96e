"""One spec per kind of reason to get in touch: everything the app needs to know about it.

Every reader asks this registry: the score (urgency), the refresh (engine), the first
draft (wording), the send-time policy (marketing or service, the topic a client may
have turned down) and Today (a client-initiated reason is never capped). No other
module lists kinds, so a kind cannot be known to one part and forgotten by another.

To add a reason kind:
1. add it to `Reason.Kind` (customers/models/relationship.py) and make the migration;
2. if a refresh finds it, write its candidates (and resolve) function in
   customers/services/reasons.py; if a service raises it when something happens, call
   `reasons_open(kind=..., ...)` there instead;
3. add its `ReasonKindSpec` to `REASON_KINDS` below, every field chosen on purpose;
4. run tests/customers/test_reason_kinds.py: it fails until the spec is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from .models import Reason, Topic

# Where the engines live. They are named here, not imported: that module reads this
# registry (urgency, engines), so importing it here would be an import cycle.
ENGINE_MODULE = "customers.services.reasons"


@dataclass(frozen=True, kw_only=True)
class Engine:
    """The two halves of a kind's refresh, by function name in ENGINE_MODULE.

    `candidates(today, scope)` yields who has this reason today; `resolve(today, scope)`
    closes the open reasons whose cause ended and returns how many. `resolve=None`: nothing
    ends it early, it expires or a person closes it.
    """

    candidates: str
    resolve: str | None

    def functions(self) -> tuple[Callable, Callable | None]:
        module = import_module(ENGINE_MODULE)
        resolve = getattr(module, self.resolve) if self.resolve else None
        return getattr(module, self.candidates), resolve


@dataclass(frozen=True, kw_only=True)
class ReasonKindSpec:
    # No field has a default on purpose: a spec that forgets one does not import.
    badge: str  # the kind in a word or two, for a badge on a phone row
    urgency: int  # how pressing, out of 35: the "urgency" part of the score
    topic: Topic | None  # the topic a client may turn down; None: no opt-out applies
    is_marketing: bool  # False: a service message (order, appointment), outside the weekly cap
    client_initiated: bool  # the client started it: Today shows it whatever the weekly cap
    engine: Engine | None  # None: a service raises it when it happens (reasons_open)
    # The built-in first draft (a manager's template wins, see customers.services.wording),
    # in the templates' syntax: {{ first_name }}, {{ associate }}, {{ associate_first }},
    # {{ store }}, {{ product }} (empty when the reason has none).
    draft: str


REASON_KINDS: dict[str, ReasonKindSpec] = {
    Reason.Kind.ORDER_SHIPPED: ReasonKindSpec(
        badge="Shipped",
        urgency=25,
        topic=None,
        is_marketing=False,
        client_initiated=False,
        engine=Engine(candidates="_order_shipped", resolve="_order_shipped_resolve"),
        draft="Hi {{ first_name }}, your order is on its way! Tell me how everything fits when it arrives. – {{ associate }}",
    ),
    Reason.Kind.ALTERATION_READY: ReasonKindSpec(
        badge="Alteration",
        urgency=30,
        topic=None,
        is_marketing=False,
        client_initiated=False,
        engine=Engine(candidates="_alteration_ready", resolve="_alteration_ready_resolve"),
        draft="Hi {{ first_name }}, your alteration is ready at {{ store }}. Come by whenever suits you, I'll have it waiting. – {{ associate }}",
    ),
    Reason.Kind.REPLENISHMENT: ReasonKindSpec(
        badge="Running out",
        urgency=25,
        topic=Topic.REPLENISHMENT,
        is_marketing=True,
        client_initiated=False,
        # Also raised by makeovers and samples (replenishment_from_use).
        engine=Engine(candidates="_replenishment", resolve="_replenishment_resolve"),
        draft="Hi {{ first_name }}, you may be running low on {{ product|default:'your favourite' }} soon. Shall I put one aside for you? – {{ associate }}",
    ),
    Reason.Kind.BIRTHDAY: ReasonKindSpec(
        badge="Birthday",
        urgency=28,
        topic=Topic.OCCASIONS,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_birthday", resolve=None),
        draft="Happy birthday, {{ first_name }}! I hope you have a lovely day. – {{ associate }}",
    ),
    Reason.Kind.ANNIVERSARY: ReasonKindSpec(
        badge="Anniversary",
        urgency=20,
        topic=Topic.OCCASIONS,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_anniversary", resolve=None),
        draft="Hi {{ first_name }}, happy anniversary! Wishing you a wonderful celebration. – {{ associate }}",
    ),
    Reason.Kind.THANK_YOU: ReasonKindSpec(
        badge="Thank-you",
        urgency=22,
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_thank_you", resolve=None),
        draft="Hi {{ first_name }}, thank you for coming in. It was a pleasure helping you, enjoy your new pieces! – {{ associate }}",
    ),
    Reason.Kind.WELCOME: ReasonKindSpec(
        badge="Welcome",
        urgency=24,
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_welcome", resolve=None),
        draft="Hi {{ first_name }}, welcome to {{ store }}! I'm {{ associate_first }}, here whenever you need anything. – {{ associate }}",
    ),
    Reason.Kind.SECOND_PURCHASE: ReasonKindSpec(
        badge="2nd purchase",
        urgency=15,
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_second_purchase", resolve="_second_purchase_resolve"),
        draft="Hi {{ first_name }}, how are you enjoying your purchase? A few new pieces arrived that made me think of you. – {{ associate }}",
    ),
    Reason.Kind.DRIFTING: ReasonKindSpec(
        badge="Drifting",
        urgency=20,
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_drifting", resolve="_drifting_resolve"),
        draft="Hi {{ first_name }}, it's been a while! We have some new arrivals I'd love to show you. – {{ associate }}",
    ),
    Reason.Kind.BACK_IN_STOCK: ReasonKindSpec(
        badge="In stock",
        urgency=25,
        topic=Topic.BACK_IN_STOCK,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_back_in_stock", resolve="_back_in_stock_resolve"),
        draft="Hi {{ first_name }}, good news: {{ product|default:'your favourite' }} is back in your size. Shall I hold it for you? – {{ associate }}",
    ),
    Reason.Kind.NEW_ARRIVAL: ReasonKindSpec(
        badge="New in",
        urgency=12,
        topic=Topic.NEW_ARRIVALS,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_new_arrival", resolve="_new_arrival_resolve"),
        draft="Hi {{ first_name }}, {{ product|default:'your favourite' }} just arrived and I thought of you right away. – {{ associate }}",
    ),
    Reason.Kind.APPOINTMENT_FOLLOW_UP: ReasonKindSpec(
        badge="Follow-up",
        urgency=22,
        topic=None,
        is_marketing=False,
        client_initiated=False,
        engine=None,  # raised by appointments when a visit ends
        draft="Hi {{ first_name }}, thank you for your visit. Here's a reminder of what we tried together. – {{ associate }}",
    ),
    Reason.Kind.MILESTONE: ReasonKindSpec(
        badge="Milestone",
        urgency=18,
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_milestone", resolve=None),
        draft="Hi {{ first_name }}, thank you for being such a loyal client of {{ store }}. – {{ associate }}",
    ),
    Reason.Kind.SIGNED_UP: ReasonKindSpec(
        badge="Sign-up",
        urgency=35,
        topic=None,
        is_marketing=True,
        client_initiated=True,
        engine=None,  # raised by the counter sign-up
        draft="Hi {{ first_name }}, lovely to meet you today at {{ store }}! I'm {{ associate_first }}, here whenever you need anything. – {{ associate }}",
    ),
    Reason.Kind.CLIENT_REPLIED: ReasonKindSpec(
        badge="Wrote back",
        urgency=35,
        topic=None,
        is_marketing=True,
        client_initiated=True,
        engine=None,  # raised when a client's email or text comes in
        # Answering: the same plain greeting as a personal message with no reason.
        draft="Hi {{ first_name }}, {{ associate_first }} from {{ store }} here. – {{ associate }}",
    ),
    Reason.Kind.CART_ABANDONED: ReasonKindSpec(
        badge="Left a cart",
        urgency=26,
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_cart_abandoned", resolve="_cart_abandoned_resolve"),
        draft="Hi {{ first_name }}, I saw you were looking at {{ product|default:'a few pieces' }}. Can I help with a size or hold it for you to try? – {{ associate }}",
    ),
    Reason.Kind.WISHLIST: ReasonKindSpec(
        badge="Wishlist",
        urgency=18,
        # The client's own recent interest, as a left cart: marketing consent covers it.
        topic=None,
        is_marketing=True,
        client_initiated=False,
        engine=Engine(candidates="_wishlist", resolve="_wishlist_resolve"),
        draft="Hi {{ first_name }}, I noticed {{ product|default:'a piece' }} on your wishlist. Would you like to try it on? I can put it aside for you. – {{ associate }}",
    ),
}


def reason_kind(kind: str) -> ReasonKindSpec:
    """The spec of `kind`; a kind without one is a bug, so it fails loudly."""
    try:
        return REASON_KINDS[kind]
    except KeyError:
        raise KeyError(f"{kind!r} has no spec in customers/reason_kinds.py") from None


def client_initiated_kinds() -> list[str]:
    """The kinds the client started (a reply, a sign-up): answering them is never capped."""
    return [kind for kind, spec in REASON_KINDS.items() if spec.client_initiated]
