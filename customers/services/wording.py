"""A message's wording: one function, templates from the admin, one syntax.

Every message the app writes to a client (a reason's first draft, an appointment's
confirmation or reminder, a makeover summary, a curated selection, the answer to a
STOP, START or HELP) asks
`message_wording` for its words. A manager's active template for the purpose wins (one
written for the channel before one written for another channel); otherwise the caller's
own built-in words go. Both are written in the same syntax, Django's template language
(`{{ first_name }}`, `{% if place %}...{% endif %}`), rendered as plain text by
`render_template_text`.

`FAMILIES` lists the purposes and the variables each supplies: the admin documents
them and previews a template with their samples, and tests/customers/test_wording.py
checks the callers supply exactly these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Case, Value, When
from django.template import Context, Engine

from ..models import Customer, MessageTemplate, Reason
from ..reason_kinds import REASON_KINDS

logger = logging.getLogger(__name__)

# Plain-text rendering of managers' templates: Django's template language with its
# built-in tags and filters only (no {% load %} of app libraries, no loaders, no HTML
# escaping, since the output is a text message); unknown variables render empty.
_TEMPLATE_ENGINE = Engine(autoescape=False, libraries={})


def render_template_text(text: str, context: dict[str, str]) -> str:
    """Render a manager's template ({{ first_name }}, {{ store }}, ...) as plain text.

    The context holds strings only, never model instances, so a template can reach
    nothing but the values it is given. Values go in as written (O'Brien, Marks & Spencer,
    a video link's "&"): the Context's own autoescape, not the engine's, is the one that
    applies to a render, so it is turned off here too.
    """
    template = _TEMPLATE_ENGINE.from_string(text)
    return template.render(Context(context, autoescape=False)).strip()


@dataclass(frozen=True, kw_only=True)
class WordingFamily:
    """Purposes that share their variables (each with a sample for the admin's preview)."""

    label: str
    purposes: tuple[str, ...]
    variables: dict[str, str]


PERSONAL_PURPOSE = "personal"

FAMILIES: tuple[WordingFamily, ...] = (
    WordingFamily(
        label="A reason to get in touch (its kind), or a personal message (personal)",
        purposes=(*REASON_KINDS, PERSONAL_PURPOSE),
        variables={
            "first_name": "Claire",
            "associate": "Ava",
            "associate_first": "Ava",
            "store": "SoHo, New York",
            "product": "Silk wrap dress",
        },
    ),
    WordingFamily(
        label="An appointment",
        purposes=(
            "appointment_confirmation",
            "appointment_request",
            "appointment_moved",
            "appointment_reminder",
            "appointment_cancelled",
            "appointment_thank_you",
        ),
        variables={
            "first_name": "Claire",
            "associate": "Ava Lee",
            "store": "SoHo, New York",
            "kind": "try-on",
            "when": "Tue 8 Dec at 14:00",
            "place": "At 12 Mercer Street.",
            "link": "https://example.com/a/…",
        },
    ),
    WordingFamily(
        label="A makeover summary",
        purposes=("makeover_summary",),
        variables={
            "first_name": "Claire",
            "associate": "Ava",
            "store": "SoHo, New York",
            "link": "https://example.com/m/…",
        },
    ),
    WordingFamily(
        label="The answer to a keyword a client sends (STOP, START, HELP)",
        purposes=("keyword_stop", "keyword_start", "keyword_help"),
        variables={
            "store": "SoHo, New York",
            "store_phone": "+1 212 555 0199",
            "messages": "texts",
        },
    ),
    WordingFamily(
        label="A curated selection (when the associate writes no note of their own)",
        purposes=("selection",),
        variables={
            "first_name": "Claire",
            "associate": "Ava Lee",
            "store": "SoHo, New York",
            "link": "https://example.com/s/…",
        },
    ),
)


def wording_family(purpose: str) -> WordingFamily | None:
    """The family of a purpose, or None for a purpose no message uses."""
    return next((family for family in FAMILIES if purpose in family.purposes), None)


def message_wording(
    *, purpose: str, channel: str | None, context: dict[str, str], default: str
) -> str:
    """The words of a message: a manager's active template for `purpose`, else `default`.

    Among a manager's templates, the one written for `channel` wins, then one written for
    any other channel (the oldest first); `channel=None` (the outbox picks the client's
    preferred channel later) takes the oldest. Both are rendered with `context` in the
    same syntax. A template that cannot render (the admin refuses these at save, but a
    row may predate that) is logged and the default goes: a manager's typo never stops a
    booking or a draft.
    """
    templates = MessageTemplate.objects.filter(purpose=purpose, is_active=True)
    if channel:
        templates = templates.order_by(
            Case(When(channel=channel, then=Value(0)), default=Value(1)), "pk"
        )
    else:
        templates = templates.order_by("pk")
    template = templates.only("body").first()
    if template is not None:
        try:
            return render_template_text(template.body, context)
        except Exception:
            logger.exception("Message template %s cannot render; using the default", template.pk)
    return render_template_text(default, context)


def reason_wording_context(
    *, customer: Customer, reason: Reason | None, associate: str
) -> dict[str, str]:
    """The variables of a reason's message (or a personal one): what drafts and
    automations supply, as FAMILIES documents."""
    return {
        "first_name": customer.first_name,
        "associate": associate,
        "associate_first": associate.split(" ")[0],
        "store": customer.home_store.name,
        "product": reason.product.name if reason and reason.product_id else "",
    }


def wording_samples(purpose: str) -> dict[str, str]:
    """Sample values of the variables `purpose` supplies (empty for an unknown purpose)."""
    family = wording_family(purpose)
    return dict(family.variables) if family else {}
