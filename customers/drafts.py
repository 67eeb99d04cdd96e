"""First drafts of personal messages, one per reason to get in touch.

The associate always reads and edits the draft before it goes; managers' own templates
(with variables and a preview in the admin) replace these with the outreach pipeline.
"""

from __future__ import annotations

from .models import Customer, Reason

DRAFTS: dict[str, str] = {
    Reason.Kind.ORDER_SHIPPED: "Hi {first_name}, your order is on its way! Tell me how everything fits when it arrives. {sender}",
    Reason.Kind.ALTERATION_READY: "Hi {first_name}, your alteration is ready at {store}. Come by whenever suits you, I'll have it waiting. {sender}",
    Reason.Kind.REPLENISHMENT: "Hi {first_name}, you may be running low on {product} soon. Shall I put one aside for you? {sender}",
    Reason.Kind.BIRTHDAY: "Happy birthday, {first_name}! I hope you have a lovely day. {sender}",
    Reason.Kind.ANNIVERSARY: "Hi {first_name}, happy anniversary! Wishing you a wonderful celebration. {sender}",
    Reason.Kind.THANK_YOU: "Hi {first_name}, thank you for coming in. It was a pleasure helping you, enjoy your new pieces! {sender}",
    Reason.Kind.WELCOME: "Hi {first_name}, welcome to {store}! I'm {sender_first}, here whenever you need anything. {sender}",
    Reason.Kind.SECOND_PURCHASE: "Hi {first_name}, how are you enjoying your purchase? A few new pieces arrived that made me think of you. {sender}",
    Reason.Kind.DRIFTING: "Hi {first_name}, it's been a while! We have some new arrivals I'd love to show you. {sender}",
    Reason.Kind.BACK_IN_STOCK: "Hi {first_name}, good news: {product} is back in your size. Shall I hold it for you? {sender}",
    Reason.Kind.NEW_ARRIVAL: "Hi {first_name}, {product} just arrived and I thought of you right away. {sender}",
    Reason.Kind.APPOINTMENT_FOLLOW_UP: "Hi {first_name}, thank you for your visit. Here's a reminder of what we tried together. {sender}",
    Reason.Kind.MILESTONE: "Hi {first_name}, thank you for being such a loyal client of {store}. {sender}",
    Reason.Kind.SIGNED_UP: "Hi {first_name}, lovely to meet you today at {store}! I'm {sender_first}, here whenever you need anything. {sender}",
}
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
    template = DRAFTS.get(reason.kind, PERSONAL) if reason else PERSONAL
    return template.format(
        first_name=customer.first_name,
        store=customer.home_store.name,
        product=reason.product.name if reason and reason.product else "your favourite",
        sender=f"– {sender_name}",
        sender_first=sender_name.split(" ")[0],
    ).strip()
