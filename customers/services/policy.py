"""The send-time policy: the one function every message passes before it leaves.

`evaluate_policy` is pure: it takes the facts (consent, preferences, what was already
sent, the clock) and says whether the message may go, when, and if not, why. The
property-based tests drive it directly. `message_policy` gathers the facts for a client
from the database and calls it: that is what pages, automations and the delivery task
call, so no path sends without it.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import CharField, Max, Value
from django.utils import timezone

from clienteling.channels import channel as channel_spec
from clienteling.channels import channel_codes, channels, is_channel

from ..models import Bounce, ConsentEvent, Contact, Customer, Message, Suppression, Topic
from .suppression import address_digest


@dataclass(frozen=True)
class PolicyFacts:
    """Everything the policy needs to know about one client, at one moment."""

    time_zone: str
    # channel -> the client's address on it ("" or absent: none on file).
    addresses: Mapping[str, str] = field(default_factory=dict)
    # consent channel -> (granted, when) for the latest consent event; absent = never asked.
    consents: dict[str, tuple[bool, datetime.datetime]] = field(default_factory=dict)
    preferred_channel: str = ""
    topics_declined: frozenset[str] = frozenset()
    quiet_start: datetime.time | None = None
    quiet_end: datetime.time | None = None
    max_marketing_per_week: int = 2
    marketing_sent_last_7_days: int = 0
    bounced: frozenset[str] = frozenset()  # channels whose address bounced
    # Consent channels whose address is suppressed (its owner said STOP): nothing goes,
    # whatever consent says, until they opt back in themselves.
    suppressed: frozenset[str] = frozenset()
    # The store's SMS window, for the channels that have a sending window (their spec says).
    sms_window: tuple[datetime.time, datetime.time] = (datetime.time(8), datetime.time(21))
    # channel -> when the client last wrote to us on it, for the channels whose spec
    # allows free text only for a while after that (`free_text_hours`: WhatsApp).
    last_wrote: Mapping[str, datetime.datetime] = field(default_factory=dict)
    # How the associate's reasons name the client ("Claire").
    first_name: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    channel: str
    send_at: datetime.datetime | None
    reason: str = ""  # why not, or why later; empty when it goes now

    @property
    def later(self) -> bool:
        return bool(self.allowed and self.reason)


def _forbidden_intervals(
    facts: PolicyFacts, channel: str
) -> list[tuple[datetime.time, datetime.time | None]]:
    """Local-time intervals [start, end) in which nothing may arrive; None means midnight."""
    intervals: list[tuple[datetime.time, datetime.time | None]] = []
    if (
        facts.quiet_start is not None
        and facts.quiet_end is not None
        and facts.quiet_start != facts.quiet_end
    ):
        if facts.quiet_start < facts.quiet_end:
            intervals.append((facts.quiet_start, facts.quiet_end))
        else:  # across midnight, e.g. 21:00-09:00
            intervals.append((facts.quiet_start, None))
            intervals.append((datetime.time.min, facts.quiet_end))
    if is_channel(channel) and channel_spec(channel).has_sending_window:
        opens, closes = facts.sms_window
        intervals.append((datetime.time.min, opens))
        intervals.append((closes, None))
    return intervals


def next_allowed_time(facts: PolicyFacts, channel: str, at: datetime.datetime) -> datetime.datetime:
    """The first moment at or after `at` outside every forbidden interval, in the client's zone.

    Works on local wall-clock times, so daylight-saving changes move the instant, never
    the local hour ("after 08:00" stays 08:00 local on the day clocks change).
    """
    zone = zoneinfo.ZoneInfo(facts.time_zone)
    local = at.astimezone(zone)
    intervals = _forbidden_intervals(facts, channel)
    for _ in range(12):  # each step leaves one interval; a few always suffice
        moved = False
        clock = local.timetz().replace(tzinfo=None)
        for start, end in intervals:
            if start <= clock and (end is None or clock < end):
                if end is None:
                    next_day = local.date() + datetime.timedelta(days=1)
                    local = datetime.datetime.combine(next_day, datetime.time.min, tzinfo=zone)
                else:
                    local = datetime.datetime.combine(local.date(), end, tzinfo=zone)
                moved = True
                break
        if not moved:
            return local.astimezone(datetime.UTC)
    raise ValueError("No allowed time: the quiet hours and the SMS window leave no gap.")


def _free_text_open(facts: PolicyFacts, spec, at: datetime.datetime) -> bool:
    """Whether free text may go on `spec`'s channel at `at` (always, without a window)."""
    if spec.free_text_hours is None:
        return True
    wrote = facts.last_wrote.get(spec.code)
    return wrote is not None and at - wrote <= datetime.timedelta(hours=spec.free_text_hours)


def _free_text_refused(facts: PolicyFacts, spec, at: datetime.datetime) -> str:
    who = facts.first_name or "The client"
    hours = spec.free_text_hours
    wrote = facts.last_wrote.get(spec.code)
    if wrote is None:
        why = f"{who} has not written on {spec.label} yet"
    elif at - wrote <= datetime.timedelta(hours=hours):
        # Within the window now, but quiet hours hold the message until after it closes.
        why = f"{who}'s {hours}-hour {spec.label} window closes before their quiet hours end"
    else:
        why = f"{who} last wrote on {spec.label} more than {hours} hours ago"
    return f"{why}: only an approved template can be sent (choose one, or use another channel)."


def evaluate_policy(
    facts: PolicyFacts,
    *,
    channel: str | None,
    is_marketing: bool,
    topic: str,
    at: datetime.datetime,
    templated: frozenset[str] = frozenset(),
) -> Decision:
    """May this message go, on which channel, when? And if not, why (in words for the associate).

    `templated`: the channels on which the message goes as a provider-approved template
    (a WhatsApp Content SID), which their free-text window does not hold back.
    """
    if not channel:
        # The client's preferred channel, else the first registered one they agreed to
        # and have an address for (settings.CHANNELS order).
        specs = sorted(channels(), key=lambda spec: spec.code != facts.preferred_channel)
        channel = next(
            (
                spec.code
                for spec in specs
                if facts.consents.get(spec.consent, (False, None))[0]
                and facts.addresses.get(spec.code)
                and spec.consent not in facts.suppressed
                and (spec.code in templated or _free_text_open(facts, spec, at))
            ),
            facts.preferred_channel or channel_codes()[0],
        )
    if not is_channel(channel):
        return Decision(False, channel, None, f"Messages can't be sent by {channel}.")
    spec = channel_spec(channel)
    if not facts.addresses.get(channel):
        return Decision(False, channel, None, f"No {spec.address_noun} on file.")
    if channel in facts.bounced:
        return Decision(False, channel, None, f"The {spec.address_noun} bounced: update it first.")
    granted, since = facts.consents.get(spec.consent, (False, None))
    if not granted:
        if since is None:
            return Decision(False, channel, None, f"Never agreed to {spec.noun}.")
        return Decision(False, channel, None, f"Said no to {spec.noun} on {since:%d %b %Y}.")
    if spec.consent in facts.suppressed:
        return Decision(
            False,
            channel,
            None,
            f"This {spec.address_noun} asked for no more {spec.noun}: "
            "only its owner can opt back in.",
        )
    if topic and topic in facts.topics_declined:
        label = dict(Topic.choices).get(topic, topic)
        return Decision(False, channel, None, f"Turned down messages about {label.lower()}.")
    if is_marketing and facts.marketing_sent_last_7_days >= facts.max_marketing_per_week:
        return Decision(
            False,
            channel,
            None,
            f"Already had {facts.marketing_sent_last_7_days} message"
            f"{'s' if facts.marketing_sent_last_7_days != 1 else ''} this week "
            f"(at most {facts.max_marketing_per_week}).",
        )
    try:
        send_at = next_allowed_time(facts, channel, at)
    except ValueError:
        return Decision(
            False, channel, None, f"Their quiet hours leave no time in the day for {spec.noun}."
        )
    if channel not in templated and not _free_text_open(facts, spec, send_at):
        return Decision(False, channel, None, _free_text_refused(facts, spec, at))
    if send_at > at:
        local = send_at.astimezone(zoneinfo.ZoneInfo(facts.time_zone))
        day = "today" if local.date() == at.astimezone(local.tzinfo).date() else f"{local:%a %d %b}"
        return Decision(
            True,
            channel,
            send_at,
            f"Quiet time for the client: it goes {day} at {local:%H:%M} their time.",
        )
    return Decision(True, channel, at)


def policy_facts(
    customer: Customer,
    *,
    exclude_message_id: int | None = None,
    now=None,
    count_marketing: bool = True,
) -> PolicyFacts:
    """Load the facts about one client (a handful of small queries).

    `count_marketing=False` skips counting this week's marketing messages, which only
    the cap on marketing needs (a service message is not capped): one query less on
    every reminder and notice.
    """
    now = now or timezone.now()
    preferences = getattr(customer, "contact_preferences", None)
    consents = {
        event.channel: (event.granted, event.recorded_at)
        for event in ConsentEvent.objects.current().filter(customer=customer)
    }
    sent = Message.objects.filter(customer=customer).marketing_sent_since(
        now - datetime.timedelta(days=7)
    )
    if exclude_message_id is not None:
        sent = sent.exclude(pk=exclude_message_id)
    addresses = {spec.code: spec.address_for(customer) for spec in channels()}
    # Bounces and suppressions in one query (a UNION): every send path runs this.
    digests = {
        (spec.consent, address_digest(addresses[spec.code]))
        for spec in channels()
        if addresses[spec.code]
    }
    kind = CharField()
    rows = (
        Bounce.objects.filter(address__in=[a for a in addresses.values() if a])
        .annotate(kind=Value("bounce", output_field=kind))
        .values_list("kind", "channel", "address")
        .union(
            Suppression.objects.filter(digest__in={digest for _, digest in digests})
            .annotate(kind=Value("suppression", output_field=kind))
            .values_list("kind", "channel", "digest"),
            all=True,
        )
    )
    bounced_set, suppressed_set = set(), set()
    for row_kind, channel, value in rows:
        if row_kind == "bounce" and addresses.get(channel) == value:
            bounced_set.add(channel)
        elif row_kind == "suppression" and (channel, value) in digests:
            suppressed_set.add(channel)
    bounced, suppressed = frozenset(bounced_set), frozenset(suppressed_set)
    # When the client last wrote on the channels with a free-text window: asked only when
    # they agreed to one of them (nothing could go on it otherwise).
    windowed = [
        spec.code
        for spec in channels()
        if spec.free_text_hours is not None
        and consents.get(spec.consent, (False, None))[0]
        and addresses[spec.code]
    ]
    last_wrote = {}
    if windowed:
        last_wrote = dict(
            Contact.objects.filter(
                customer=customer, direction=Contact.Direction.INBOUND, channel__in=windowed
            )
            .values("channel")
            .annotate(last=Max("occurred_at"))
            .values_list("channel", "last")
        )
    store = customer.home_store
    window = (
        max(settings.SMS_WINDOW_START, store.sms_window_start or settings.SMS_WINDOW_START),
        min(settings.SMS_WINDOW_END, store.sms_window_end or settings.SMS_WINDOW_END),
    )
    return PolicyFacts(
        time_zone=customer.time_zone or store.time_zone,
        addresses=addresses,
        consents=consents,
        preferred_channel=preferences.preferred_channel if preferences else "",
        topics_declined=frozenset(preferences.topics_declined if preferences else []),
        quiet_start=preferences.quiet_hours_start if preferences else None,
        quiet_end=preferences.quiet_hours_end if preferences else None,
        max_marketing_per_week=preferences.max_messages_per_week if preferences else 2,
        marketing_sent_last_7_days=sent.count() if count_marketing else 0,
        bounced=bounced,
        suppressed=suppressed,
        sms_window=window,
        last_wrote=last_wrote,
        first_name=customer.first_name,
    )


def message_policy(
    *,
    customer: Customer,
    channel: str | None,
    is_marketing: bool,
    topic: str = "",
    at: datetime.datetime | None = None,
    exclude_message_id: int | None = None,
    template=None,
) -> Decision:
    """The policy for one client, from the database: what every send path calls.

    `template`: the `MessageTemplate` the message goes as, if any; on a channel where it
    has an approved version (WhatsApp), the message is that approved template."""
    at = at or timezone.now()
    facts = policy_facts(
        customer, exclude_message_id=exclude_message_id, now=at, count_marketing=is_marketing
    )
    templated = frozenset(spec.code for spec in channels() if spec.approved_template_id(template))
    return evaluate_policy(
        facts,
        channel=channel,
        is_marketing=is_marketing,
        topic=topic,
        at=at,
        templated=templated,
    )
