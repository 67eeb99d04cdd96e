"""Transports that deliver one email or one SMS.

One small interface (`Transport.send`) hides the provider. The policy on whether a
message may be sent at all (consent, quiet hours, caps) is not here: it lives in
`customers`, which calls these transports only after the policy said yes.
"""

from __future__ import annotations

from .base import (
    OutgoingMessage,
    PermanentTransportError,
    SendResult,
    TransientTransportError,
    Transport,
    get_transport,
)

__all__ = [
    "OutgoingMessage",
    "PermanentTransportError",
    "SendResult",
    "TransientTransportError",
    "Transport",
    "get_transport",
]
