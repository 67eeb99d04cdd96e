"""The channels a message can go out by: one spec each, chosen by `settings.CHANNELS`.

Everything that has to know something about a channel (the send-time policy, the
outbox, consent, forms, the contact log, erasure) asks its spec here instead of naming
it, so a new channel (WhatsApp, push) is one module in this package with its spec and
its transport, and one line in `settings.CHANNELS`:

    CHANNELS = {
        "email": "clienteling.channels.email.SPEC",
        "sms": "clienteling.channels.sms.SPEC",
        "whatsapp": "clienteling.channels.whatsapp.SPEC",
    }

The order of `settings.CHANNELS` is the order channels are tried and shown in. Stored
codes are at most 8 characters (the `channel` columns); choices are callables
(`channel_choices`), so registering a channel needs no migration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import Transport

# The `channel` columns (messages, consent, bounces, the contact log) are this long.
CODE_MAX_LENGTH = 8


class UnknownChannelError(LookupError):
    """No channel with this code is registered in settings.CHANNELS."""


@dataclass(frozen=True)
class ChannelSpec:
    """What the app needs to know about one channel it sends by."""

    # Stored in messages, consent events and bounces: never change it once used.
    code: str
    # Its name in lists, badges and the admin ("SMS").
    label: str
    # What an associate picks when writing ("Text message").
    message_label: str
    # What a client agrees to or turns down, in a sentence: "Never agreed to text messages".
    noun: str
    # How we reach the client, in the consent sentence and "wrote back by text message".
    by: str
    # "No mobile number on file."
    address_noun: str
    # Which attribute of a client holds the address ("phone"): also the name of the form
    # field that asks for it.
    address_attribute: str
    # Dotted path of the class that delivers it (see `base.Transport`) ...
    transport: str
    # ... unless this setting names another one (SMS_TRANSPORT: console, file or provider).
    transport_setting: str = ""
    # The consent channel a message needs; empty: its own code (its own consent).
    consent: str = ""
    # The store's SMS window (SMS_WINDOW_START/END, narrowed per store) applies to it.
    has_sending_window: bool = False
    # Each message carries a one-click unsubscribe link (List-Unsubscribe headers).
    supports_unsubscribe_link: bool = False
    # Free text may go only this many hours after the client last wrote on this channel
    # (WhatsApp's 24-hour window); after that, only a provider-approved template. None:
    # free text at any time.
    free_text_hours: int | None = None
    # The attribute of a `MessageTemplate` holding the provider's id of its approved
    # version on this channel ("whatsapp_content_sid"): a message carrying a template
    # with one goes as that approved template, which the window above lets through.
    template_id_attribute: str = ""

    def __post_init__(self) -> None:
        if not self.consent:
            object.__setattr__(self, "consent", self.code)

    def address_for(self, client: Any) -> str:
        """The client's address on this channel, as text ("" when they have none)."""
        value = getattr(client, self.address_attribute, "")
        return str(value) if value else ""

    def approved_template_id(self, template: Any) -> str:
        """The provider's id of `template`'s approved version on this channel, or ""."""
        if template is None or not self.template_id_attribute:
            return ""
        return str(getattr(template, self.template_id_attribute, "") or "")

    @property
    def transport_path(self) -> str:
        if self.transport_setting:
            return getattr(settings, self.transport_setting, "") or self.transport
        return self.transport


@functools.cache
def _load(paths: tuple[tuple[str, str], ...]) -> dict[str, ChannelSpec]:
    specs: dict[str, ChannelSpec] = {}
    for code, path in paths:
        spec = import_string(path)
        if not isinstance(spec, ChannelSpec) or spec.code != code:
            raise ImproperlyConfigured(
                f"settings.CHANNELS[{code!r}] must name a ChannelSpec whose code is {code!r}."
            )
        specs[code] = spec
    return specs


def _registry() -> dict[str, ChannelSpec]:
    # Keyed on the setting's contents, so tests that override CHANNELS see their own.
    return _load(tuple(settings.CHANNELS.items()))


def channels() -> tuple[ChannelSpec, ...]:
    """Every registered channel, in the order of settings.CHANNELS."""
    return tuple(_registry().values())


def channel(code: str) -> ChannelSpec:
    """The spec of one channel; UnknownChannelError when none has this code."""
    try:
        return _registry()[code]
    except KeyError:
        raise UnknownChannelError(f"No channel {code!r} is registered.") from None


def channel_codes() -> tuple[str, ...]:
    return tuple(_registry())


def is_channel(code: str | None) -> bool:
    """True when messages can be sent by `code` (a call or a visit cannot)."""
    return code in _registry()


def channel_choices() -> list[tuple[str, str]]:
    """(code, label) of every channel: the choices of the models' `channel` fields."""
    return [(spec.code, spec.label) for spec in channels()]


def message_channel_choices() -> list[tuple[str, str]]:
    """(code, what an associate picks) of every channel, for the forms that send."""
    return [(spec.code, spec.message_label) for spec in channels()]


def get_transport(code: str) -> Transport:
    """A new instance of the transport configured for a channel."""
    return import_string(channel(code).transport_path)()
