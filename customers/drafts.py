"""First drafts of personal messages, one per reason to get in touch (its built-in wording
is in its spec, customers/reason_kinds.py).

The associate always reads and edits the draft before it goes. A manager's template for
the reason (written in the admin) replaces the built-in words: `message_wording` chooses.
"""

from __future__ import annotations

from .models import Customer, Reason
from .reason_kinds import reason_kind
from .services.wording import PERSONAL_PURPOSE, message_wording, reason_wording_context

# A message that answers no reason in particular.
PERSONAL = "Hi {{ first_name }}, {{ associate_first }} from {{ store }} here. – {{ associate }}"


def draft_message(
    *, customer: Customer, reason: Reason | None, sender_name: str, channel: str = ""
) -> str:
    """A first draft for this client and reason, signed by the sender.

    A manager's active template for the reason (and channel) wins; these built-in drafts
    are the fallback, so a new store has sensible words on day one.
    """
    return message_wording(
        purpose=reason.kind if reason else PERSONAL_PURPOSE,
        channel=channel or None,
        context=reason_wording_context(customer=customer, reason=reason, associate=sender_name),
        default=reason_kind(reason.kind).draft if reason else PERSONAL,
    )
