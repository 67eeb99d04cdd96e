"""The channels messages go out by, and the transports that deliver one message each.

`registry` holds one `ChannelSpec` per channel (chosen by settings.CHANNELS): its label,
the client's address it uses, its consent, its sending window and its transport. One
small interface (`Transport.send`) hides the provider. The policy on whether a message
may be sent at all (consent, quiet hours, caps) is not here: it lives in `customers`,
which asks the specs and calls these transports only after the policy said yes.
"""

from __future__ import annotations

from .base import (
    OutgoingMessage,
    PermanentTransportError,
    Sender,
    SendResult,
    TransientTransportError,
    Transport,
)
from .registry import (
    ChannelSpec,
    UnknownChannelError,
    channel,
    channel_choices,
    channel_codes,
    channels,
    get_transport,
    is_channel,
    message_channel_choices,
)

__all__ = [
    "ChannelSpec",
    "OutgoingMessage",
    "PermanentTransportError",
    "SendResult",
    "Sender",
    "TransientTransportError",
    "Transport",
    "UnknownChannelError",
    "channel",
    "channel_choices",
    "channel_codes",
    "channels",
    "get_transport",
    "is_channel",
    "message_channel_choices",
]
