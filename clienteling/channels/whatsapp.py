"""WhatsApp messages through Twilio: the channel spec and its transports.

Select Twilio with WHATSAPP_TRANSPORT=clienteling.channels.whatsapp.TwilioWhatsAppTransport
(the same TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN as texts); each store sends from its
WhatsApp sender number, else TWILIO_WHATSAPP_DEFAULT_FROM. Replies arrive on the same
Twilio webhook as texts, their From prefixed "whatsapp:".

WhatsApp's 24-hour window: free text only within 24 hours after the client last wrote
to us on WhatsApp; outside it only a template Meta approved (a Content SID, HX..., on the
store's message template, with its numbered variables). The policy holds the rule
(`free_text_hours`); the transport sends whichever the message carries.

No store SMS window: that window is a rule for carrier texts, and WhatsApp messages are
not carrier texts. The client's own quiet hours still hold, as on every channel.
"""

from __future__ import annotations

import json
import sys
import uuid

from django.conf import settings

from .base import OutgoingMessage, SendResult
from .registry import ChannelSpec
from .twilio import TwilioSmsTransport

PREFIX = "whatsapp:"

SPEC = ChannelSpec(
    code="whatsapp",
    label="WhatsApp",
    message_label="WhatsApp message",
    noun="WhatsApp messages",
    by="on WhatsApp",
    address_noun="mobile number",
    address_attribute="phone",
    transport="clienteling.channels.whatsapp.ConsoleWhatsAppTransport",
    transport_setting="WHATSAPP_TRANSPORT",
    # Its own consent: agreeing to texts is not agreeing to WhatsApp, and a STOP on one
    # leaves the other as it was.
    consent="",
    free_text_hours=24,
    template_id_attribute="whatsapp_content_sid",
)


def address(number: str) -> str:
    """A number as Twilio names it on WhatsApp ("whatsapp:+33..."), "" for none."""
    number = number.strip()
    if not number or number.startswith(PREFIX):
        return number
    return PREFIX + number


def is_whatsapp_address(value: str) -> bool:
    return value.strip().lower().startswith(PREFIX)


def strip_prefix(value: str) -> str:
    """ "whatsapp:+33..." -> "+33..." (anything else unchanged)."""
    value = value.strip()
    return value[len(PREFIX) :] if value.lower().startswith(PREFIX) else value


class ConsoleWhatsAppTransport:
    """Prints each WhatsApp message to standard output (development's default)."""

    def send(self, message: OutgoingMessage) -> SendResult:
        provider_id = message.dedupe_key or uuid.uuid4().hex
        what = (
            f"template {message.template_id} {json.dumps(message.template_variables)}"
            if message.template_id
            else message.body
        )
        sys.stdout.write(f"WhatsApp to {message.to} [{provider_id}]: {what}\n")
        sys.stdout.flush()
        return SendResult(provider_id=provider_id)


class TwilioWhatsAppTransport(TwilioSmsTransport):
    """One WhatsApp message with Twilio's `messages.create`: the text transport's client,
    errors and status callbacks, from the store's WhatsApp sender; an approved template
    goes as ContentSid and ContentVariables instead of a Body."""

    noun = "WhatsApp message"

    def options(self, message: OutgoingMessage) -> dict[str, str]:
        options = super().options(message)
        options.pop("messaging_service_sid", None)
        options["to"] = address(message.to)
        options["from_"] = address(
            message.sender.whatsapp_from or settings.TWILIO_WHATSAPP_DEFAULT_FROM
        )
        if message.template_id:
            del options["body"]
            options["content_sid"] = message.template_id
            options["content_variables"] = json.dumps(message.template_variables)
        return options
