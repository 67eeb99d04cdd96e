"""Suppressions: an opt-out that outlives the client's row.

A STOP text (or a spam complaint from the email provider) is recorded twice: as the
client's consent withdrawal (their history, erased with them) and as a `Suppression`
keyed by the consent channel and a salted hash of the address, normalised (E.164 for a
number, lower case for an email address). The hash holds nothing readable, so erasure
keeps it; the policy refuses a suppressed address even when consent says yes, so a
client erased and re-created by the POS with "consent: yes" receives nothing on it.

Only the person themselves lifts it: a START text, or an opt-in they give on their own
device (`consent` calls `suppressions_lift_for_opt_ins`). An import, an associate or the
admin cannot.

The salt is SUPPRESSION_SALT, or one derived from SECRET_KEY: set SUPPRESSION_SALT in
production, or rotating SECRET_KEY forgets every suppression.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction

from ..models import Suppression


def _salt() -> bytes:
    if settings.SUPPRESSION_SALT:
        return settings.SUPPRESSION_SALT.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"customers.suppression", hashlib.sha256).digest()


def address_normalise(address: str, *, region: str = "") -> str:
    """An email address in lower case; a phone number in E.164 ("" when it is not one)."""
    address = str(address or "").strip()
    if "@" in address:
        return address.lower()
    if not address:
        return ""
    try:
        number = phonenumbers.parse(address, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return address
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def address_digest(address: str) -> str:
    """The salted hash a suppression is kept under (hex HMAC-SHA256)."""
    return hmac.new(_salt(), address_normalise(address).encode(), hashlib.sha256).hexdigest()


def suppression_add(
    *, channel: str, address: str, reason: str = Suppression.Reason.STOP
) -> Suppression | None:
    """Suppress an address on a consent channel ("sms", "email"). Idempotent: returns the
    suppression (None when there is no address)."""
    if not address_normalise(address):
        return None
    digest = address_digest(address)
    try:
        with transaction.atomic():
            suppression, _ = Suppression.objects.get_or_create(
                channel=channel, digest=digest, defaults={"reason": reason}
            )
    except IntegrityError:  # added concurrently: that one is it
        suppression = Suppression.objects.get(channel=channel, digest=digest)
    return suppression


def suppression_lift(*, channel: str, address: str) -> bool:
    """The person opted back in themselves (START, their own opt-in): lift it. Call it
    only for the client's own act. Returns whether there was one."""
    if not address_normalise(address):
        return False
    deleted, _ = Suppression.objects.filter(
        channel=channel, digest=address_digest(address)
    ).delete()
    return bool(deleted)


def is_suppressed(*, channel: str, address: str) -> bool:
    if not address_normalise(address):
        return False
    return Suppression.objects.filter(channel=channel, digest=address_digest(address)).exists()


def suppressions_lift(pairs: Iterable[tuple[str, str]]) -> int:
    """Lift many (consent channel, address) pairs at once: one DELETE per channel."""
    by_channel: dict[str, set[str]] = {}
    for channel, address in pairs:
        if address_normalise(address):
            by_channel.setdefault(channel, set()).add(address_digest(address))
    lifted = 0
    for channel, digests in by_channel.items():
        lifted += Suppression.objects.filter(channel=channel, digest__in=digests).delete()[0]
    return lifted


def phone_candidates(raw: str, *, region: str = "") -> list[str]:
    """The E.164 numbers an inbound sender's number may be, whatever its format:
    "+33 6 15 81 78 67", "0033615817867", "33615817867" (international digits without the
    plus) or "0615817867" (national, read in `region`: the store's country). Valid numbers
    only, the likeliest first; more than one when the digits read both ways."""
    text = str(raw or "").strip()
    digits = "".join(char for char in text if char.isdigit())
    if not digits:
        return []
    region = (region or settings.PHONENUMBER_DEFAULT_REGION).upper()
    if text.startswith("+"):
        attempts = [("+" + digits, None)]
    elif digits.startswith("00"):
        attempts = [("+" + digits[2:], None)]
    else:
        attempts = [(digits, region), ("+" + digits, None)]
    candidates: list[str] = []
    for number, number_region in attempts:
        try:
            parsed = phonenumbers.parse(number, number_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in candidates:
                candidates.append(e164)
    return candidates
