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
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import CharField, Count, Exists, Max, Value
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
    # The offers and automations, as (subject, id) (("automation", 3)), the client is held
    # out of: their messages never go to them, so the performance page can measure what
    # each adds against clients who got nothing (`services.holdout`).
    held_out: frozenset[tuple[str, int]] = frozenset()
    # The offers and automations paused (their effect stayed below zero): nothing of
    # theirs goes, even a message queued before the pause.
    paused: frozenset[tuple[str, int]] = frozenset()


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


def _noun(subject: tuple[str, int]) -> str:
    return "automation" if subject[0] == "automation" else "offer"


def evaluate_policy(
    facts: PolicyFacts,
    *,
    channel: str | None,
    is_marketing: bool,
    topic: str,
    at: datetime.datetime,
    templated: frozenset[str] = frozenset(),
    subject: tuple[str, int] | None = None,
) -> Decision:
    """May this message go, on which channel, when? And if not, why (in words for the associate).

    `templated`: the channels on which the message goes as a provider-approved template
    (a WhatsApp Content SID), which their free-text window does not hold back.
    `subject`: the offer or automation the message is for (("automation", rule id)), if
    any: a client held out of it, or a paused one, gets nothing, whatever else holds.
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
    if subject is not None and subject in facts.held_out:
        return Decision(
            False, channel, None, f"Held out of this {_noun(subject)} to measure what it adds."
        )
    if subject is not None and subject in facts.paused:
        return Decision(
            False, channel, None, f"This {_noun(subject)} is paused: its effect stayed below zero."
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
    subject: tuple[str, int] | None = None,
) -> PolicyFacts:
    """Load the facts about one client (a handful of small queries).

    `count_marketing=False` skips counting this week's marketing messages, which only
    the cap on marketing needs (a service message is not capped): one query less on
    every reminder and notice. `subject` (the offer or automation a message is for)
    adds one query: whether the client is held out of it, and whether it is paused.
    """
    now = now or timezone.now()
    facts = policy_facts_batch(
        [customer],
        now=now,
        exclude_message_ids=set() if exclude_message_id is None else {exclude_message_id},
        count_marketing_for={customer.pk} if count_marketing else set(),
    )[customer.pk]
    held_out, paused = subject_facts(customer.pk, subject)
    return replace(facts, held_out=held_out, paused=paused)


def subject_facts(
    customer_id: int, subject: tuple[str, int] | None
) -> tuple[frozenset[tuple[str, int]], frozenset[tuple[str, int]]]:
    """(held out, paused) for `PolicyFacts`: whether the client is held out of `subject`
    (an offer or automation) and whether it is paused. One query (the offer's or rule's
    row with an EXISTS on the client's holdout exposure); none without a subject. A
    subject that no longer exists counts as paused: nothing of it goes."""
    if subject is None:
        return frozenset(), frozenset()
    from ..models import AutomationRule, Exposure, Offer

    kind, subject_id = subject
    model = {Exposure.Subject.OFFER: Offer, Exposure.Subject.AUTOMATION: AutomationRule}.get(kind)
    if model is None:
        return frozenset(), frozenset()
    held = Exists(
        Exposure.objects.filter(
            customer_id=customer_id,
            subject=kind,
            subject_id=subject_id,
            group=Exposure.Group.HOLDOUT,
        )
    )
    found = (
        model.objects.filter(pk=subject_id)
        .annotate(held=held)
        .values_list("paused_at", "held")
        .first()
    )
    if found is None:
        return frozenset(), frozenset({subject})
    paused_at, is_held = found
    return (
        frozenset({subject}) if is_held else frozenset(),
        frozenset({subject}) if paused_at is not None else frozenset(),
    )


def automation_subjects_batch(
    messages: list[Message],
) -> dict[int, tuple[tuple[str, int], frozenset, frozenset]]:
    """For the automations' messages among `messages` (no sender, a template, a reason):
    message id -> (("automation", rule id), held out, paused), the subject and the two
    facts `evaluate_policy` needs to refuse a held-out client or a paused rule. Two
    queries whatever the number of messages (none without an automation's message)."""
    from ..models import AutomationRule, Exposure

    automated = [
        message
        for message in messages
        if message.sender_id is None and message.template_id and message.reason_id
    ]
    if not automated:
        return {}
    rules = {
        kind: (pk, paused_at)
        for kind, pk, paused_at in AutomationRule.objects.filter(
            reason_kind__in={message.purpose for message in automated}
        ).values_list("reason_kind", "pk", "paused_at")
    }
    if not rules:
        return {}
    held = set(
        Exposure.objects.filter(
            subject=Exposure.Subject.AUTOMATION,
            group=Exposure.Group.HOLDOUT,
            subject_id__in=[pk for pk, _ in rules.values()],
            customer_id__in={message.customer_id for message in automated},
        ).values_list("customer_id", "subject_id")
    )
    found = {}
    for message in automated:
        if message.purpose not in rules:
            continue
        rule_id, paused_at = rules[message.purpose]
        subject = ("automation", rule_id)
        found[message.pk] = (
            subject,
            frozenset({subject}) if (message.customer_id, rule_id) in held else frozenset(),
            frozenset({subject}) if paused_at is not None else frozenset(),
        )
    return found


def automation_subject(message: Message) -> tuple[str, int] | None:
    """The automation a message came from (("automation", rule id)), or None.

    An automation's message has no sender, a template and a reason; its rule is the one
    of its reason kind (one rule per kind). One query for those messages, none otherwise.
    """
    if message.sender_id is not None or message.template_id is None or message.reason_id is None:
        return None
    from ..models import AutomationRule

    rule_id = (
        AutomationRule.objects.filter(reason_kind=message.purpose)
        .values_list("pk", flat=True)
        .first()
    )
    return None if rule_id is None else ("automation", rule_id)


def policy_facts_batch(
    customers: list[Customer],
    *,
    now: datetime.datetime,
    exclude_message_ids: frozenset[int] | set[int] = frozenset(),
    count_marketing_for: set[int] | frozenset[int] = frozenset(),
) -> dict[int, PolicyFacts]:
    """The policy's facts for many clients at once (`policy_facts` is this for one), in
    the same few queries whatever their
    number (consent; this week's marketing, for the clients in `count_marketing_for`;
    bounces and suppressions in one UNION; when they last wrote, only when a free-text
    window could matter). Load the clients with `home_store` and `contact_preferences`
    (select_related): each is read from them, never fetched.

    One code for one client and for many: the delivery of a batch asks `evaluate_policy`
    exactly the question a single send does. `exclude_message_ids`: the messages being
    delivered (each is left out of its own client's count, as `exclude_message_id`).
    """
    by_id = {customer.pk: customer for customer in customers}
    if not by_id:
        return {}
    ids = list(by_id)
    specs = channels()
    consents: dict[int, dict[str, tuple[bool, datetime.datetime]]] = {pk: {} for pk in ids}
    for customer_id, channel, granted, recorded_at in (
        ConsentEvent.objects.current()
        .filter(customer_id__in=ids)
        .order_by()
        .values_list("customer_id", "channel", "granted", "recorded_at")
    ):
        consents[customer_id][channel] = (granted, recorded_at)
    marketing: dict[int, int] = {}
    counted = [pk for pk in ids if pk in count_marketing_for]
    if counted:
        sent = Message.objects.filter(customer_id__in=counted).marketing_sent_since(
            now - datetime.timedelta(days=7)
        )
        if exclude_message_ids:
            sent = sent.exclude(pk__in=list(exclude_message_ids))
        marketing = dict(
            sent.order_by()
            .values("customer_id")
            .annotate(sent=Count("pk"))
            .values_list("customer_id", "sent")
        )
    addresses = {pk: _addresses(customer, specs) for pk, customer in by_id.items()}
    digest_of: dict[str, str] = {}  # text and WhatsApp share the phone: hashed once
    for own in addresses.values():
        for address in own.values():
            if address and address not in digest_of:
                digest_of[address] = address_digest(address)
    digests = {
        pk: {(spec.consent, digest_of[own[spec.code]]) for spec in specs if own[spec.code]}
        for pk, own in addresses.items()
    }
    all_addresses = {address for own in addresses.values() for address in own.values() if address}
    all_digests = {digest for own in digests.values() for _, digest in own}
    kind = CharField()
    rows = (
        Bounce.objects.filter(address__in=all_addresses)
        .annotate(kind=Value("bounce", output_field=kind))
        .values_list("kind", "channel", "address")
        .union(
            Suppression.objects.filter(digest__in=all_digests)
            .annotate(kind=Value("suppression", output_field=kind))
            .values_list("kind", "channel", "digest"),
            all=True,
        )
    )
    bounce_rows, suppression_rows = set(), set()
    for row_kind, channel, value in rows:
        (bounce_rows if row_kind == "bounce" else suppression_rows).add((channel, value))
    windowed = {
        pk: [
            spec.code
            for spec in specs
            if spec.free_text_hours is not None
            and consents[pk].get(spec.consent, (False, None))[0]
            and addresses[pk][spec.code]
        ]
        for pk in ids
    }
    last_wrote: dict[int, dict[str, datetime.datetime]] = {pk: {} for pk in ids}
    if any(windowed.values()):
        for customer_id, channel, last in (
            Contact.objects.filter(
                customer_id__in=[pk for pk, codes in windowed.items() if codes],
                direction=Contact.Direction.INBOUND,
                channel__in={code for codes in windowed.values() for code in codes},
            )
            .order_by()
            .values("customer_id", "channel")
            .annotate(last=Max("occurred_at"))
            .values_list("customer_id", "channel", "last")
        ):
            if channel in windowed[customer_id]:
                last_wrote[customer_id][channel] = last
    facts = {}
    for pk, customer in by_id.items():
        preferences = getattr(customer, "contact_preferences", None)
        own = addresses[pk]
        store = customer.home_store
        facts[pk] = PolicyFacts(
            time_zone=customer.time_zone or store.time_zone,
            addresses=own,
            consents=consents[pk],
            preferred_channel=preferences.preferred_channel if preferences else "",
            topics_declined=frozenset(preferences.topics_declined if preferences else []),
            quiet_start=preferences.quiet_hours_start if preferences else None,
            quiet_end=preferences.quiet_hours_end if preferences else None,
            max_marketing_per_week=preferences.max_messages_per_week if preferences else 2,
            marketing_sent_last_7_days=marketing.get(pk, 0),
            bounced=frozenset(
                code for code, address in own.items() if address and (code, address) in bounce_rows
            ),
            suppressed=frozenset(
                consent for consent, digest in digests[pk] if (consent, digest) in suppression_rows
            ),
            sms_window=(
                max(settings.SMS_WINDOW_START, store.sms_window_start or settings.SMS_WINDOW_START),
                min(settings.SMS_WINDOW_END, store.sms_window_end or settings.SMS_WINDOW_END),
            ),
            last_wrote=last_wrote[pk],
            first_name=customer.first_name,
        )
    return facts


def _addresses(customer: Customer, specs) -> dict[str, str]:
    """channel -> the client's address on it: each attribute read once (text and WhatsApp
    share the phone, whose formatting validates the number: a batch's hot spot)."""
    by_attribute: dict[str, str] = {}
    found = {}
    for spec in specs:
        if spec.address_attribute not in by_attribute:
            by_attribute[spec.address_attribute] = spec.address_for(customer)
        found[spec.code] = by_attribute[spec.address_attribute]
    return found


def templated_channels(template) -> frozenset[str]:
    """The channels on which a message from `template` goes as a provider-approved
    template (`evaluate_policy`'s `templated`)."""
    return frozenset(spec.code for spec in channels() if spec.approved_template_id(template))


def message_policy(
    *,
    customer: Customer,
    channel: str | None,
    is_marketing: bool,
    topic: str = "",
    at: datetime.datetime | None = None,
    exclude_message_id: int | None = None,
    template=None,
    subject: tuple[str, int] | None = None,
) -> Decision:
    """The policy for one client, from the database: what every send path calls.

    `template`: the `MessageTemplate` the message goes as, if any; on a channel where it
    has an approved version (WhatsApp), the message is that approved template.
    `subject`: the offer or automation it is for (("offer", id), ("automation", id)): a
    client held out of it never gets it (`services.holdout`), nor anyone once it is paused."""
    at = at or timezone.now()
    facts = policy_facts(
        customer,
        exclude_message_id=exclude_message_id,
        now=at,
        count_marketing=is_marketing,
        subject=subject,
    )
    templated = frozenset(spec.code for spec in channels() if spec.approved_template_id(template))
    return evaluate_policy(
        facts,
        channel=channel,
        is_marketing=is_marketing,
        topic=topic,
        at=at,
        templated=templated,
        subject=subject,
    )
