"""First drafts of personal messages, one per reason to get in touch (its wording is in
its spec, customers/reason_kinds.py).

The associate always reads and edits the draft before it goes; managers' own templates
(with variables and a preview in the admin) replace these with the outreach pipeline.
"""

from __future__ import annotations

from .models import Customer, Reason
from .reason_kinds import reason_kind

# A message that answers no reason in particular.
PERSONAL = "Hi {first_name}, {sender_first} from {store} here. {sender}"


def draft_message(
    *, customer: Customer, reason: Reason | None, sender_name: str, channel: str = ""
) -> str:
    """A first draft for this client and reason, signed by the sender.

    A manager's active template for the reason (and channel) wins; these built-in drafts
    are the fallback, so a new store has sensible words on day one.
    """
    from .models import MessageTemplate
    from .services.outreach import render_template_text

    managed = MessageTemplate.objects.filter(
        purpose=reason.kind if reason else "personal", is_active=True
    )
    if channel:
        managed = managed.filter(channel=channel)
    custom = managed.order_by("pk").first()
    if custom is not None:
        return render_template_text(
            custom.body,
            {
                "first_name": customer.first_name,
                "associate": sender_name,
                "store": customer.home_store.name,
                "product": reason.product.name if reason and reason.product_id else "",
            },
        )
    template = reason_kind(reason.kind).draft if reason else PERSONAL
    return template.format(
        first_name=customer.first_name,
        store=customer.home_store.name,
        product=reason.product.name if reason and reason.product else "your favourite",
        sender=f"– {sender_name}",
        sender_first=sender_name.split(" ")[0],
    ).strip()
