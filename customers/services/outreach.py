"""Outreach: queue a message (the outbox row), deliver it once, sweep what was missed.

Delivery is at-least-once towards the provider and exactly-once in effect: a message is
claimed by a conditional UPDATE (queued -> sending), so two workers never both send it;
if a worker dies after the provider accepted the message but before it wrote "sent",
the sweep re-queues it when the claim's lease expires, and before it goes again:
- a provider that keeps a list of what it accepted (Twilio) is asked first
  (`sent_matching`), and a copy found is recorded as the send instead of sending;
- a provider that drops repeats by key gets the same dedupe key (the HTTP transport's
  Idempotency-Key);
- email can be neither asked nor deduplicated by most ESPs: it goes again, with the same
  Message-ID (the README's "Once, provider by provider" says why it errs that way).
A provider's callback that names our reference (Twilio's status callback URL, an ESP's
metadata) records the send too, even before the worker did, or instead of a dead one.
Messages due later wait in the database, never as long countdowns in the broker.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from clienteling.channels import (
    OutgoingMessage,
    PermanentTransportError,
    Sender,
    SendResult,
    TransientTransportError,
    get_transport,
    is_channel,
)
from clienteling.channels import channel as channel_spec
from clienteling.channels import email as email_channel
from clienteling.channels import sms as sms_channel
from clienteling.core.errors import ApplicationError
from clienteling.core.http import absolute_url
from clienteling.core.tasks import enqueue_on_commit
from clienteling.stores.models import Store

from ..models import (
    Bounce,
    Customer,
    InboundMessage,
    Message,
    MessageTemplate,
    Reason,
    Source,
)
from ..models.outreach import PREFERRED_CHANNEL
from ..reason_kinds import reason_kind
from .audit import audit_message_sent
from .consent import consent_record
from .keywords import keyword_match
from .policy import (
    PolicyFacts,
    automation_subjects_batch,
    evaluate_policy,
    message_policy,
    policy_facts_batch,
    templated_channels,
)
from .suppression import is_suppressed, phone_candidates, suppression_add, suppression_lift
from .wording import message_wording, reason_wording_context, render_template_text

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "customers.unsubscribe"
SWEEP_BATCH = 1000
# Messages a delivery task takes at once: the sweep hands due messages out in batches
# of this many (`messages_deliver`), on channels whose transport sends a batch in one go,
# and of PROVIDER_BATCH on those that send one at a time (a request each: smaller
# batches keep more workers busy).
DELIVERY_BATCH = 200
PROVIDER_BATCH = 20


def unsubscribe_token(customer: Customer, channel: str) -> str:
    return signing.dumps({"c": customer.pk, "ch": channel}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(customer: Customer, channel: str) -> str:
    # Sent in a message (often by the worker): on SITE_URL, never a request's host.
    return absolute_url(reverse("unsubscribe", args=[unsubscribe_token(customer, channel)]))


def store_logo_url(store) -> str:
    """The store's logo as a full link for its emails, or "" without one. Object storage
    already answers with a full URL; local media is served on SITE_URL."""
    if store is None or not store.logo:
        return ""
    url = store.logo.url
    return url if "://" in url else absolute_url(url)


def message_queue(
    *,
    customer: Customer,
    channel: str | None,
    body: str,
    dedupe_key: str,
    subject: str = "",
    purpose: str = "personal",
    topic: str = "",
    is_marketing: bool = True,
    sender=None,
    reason: Reason | None = None,
    scheduled_for: datetime.datetime | None = None,
    template: MessageTemplate | None = None,
    variant: str = "",
    template_context: dict[str, str] | None = None,
    offer_or_automation: tuple[str, int] | None = None,
    deliver_now: bool = True,
) -> Message:
    """Write a message to the outbox and deliver it after commit (or at its time).

    `deliver_now=False`: the caller hands due messages to workers itself, in batches
    (`messages_hand_out`), as `automations_run` does for a morning's reminders.

    Call it inside the transaction that causes the message: if that rolls back, there is
    no message. The same dedupe key twice returns the first message: queueing is
    idempotent. The policy is checked now, so the caller learns at once if the message
    can't go (it is recorded as not sent, with why), and again at delivery.

    A `template` with an approved version on the channel (WhatsApp's Content SID) makes
    the message that approved template, with its variables taken from
    `template_context` (by default the client's, their associate's and store's names).

    `offer_or_automation` (("offer", id) or ("automation", id)): what the message is
    for; the policy refuses it to a client held out of it, or when it is paused.
    """
    if not body.strip():
        raise ApplicationError("Write the message first.", field="body")
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    when = scheduled_for or now
    decision = message_policy(
        customer=customer,
        channel=channel,
        is_marketing=is_marketing,
        topic=topic,
        at=max(when, now),
        template=template,
        subject=offer_or_automation,
    )
    template_variables = {}
    if is_channel(decision.channel) and channel_spec(decision.channel).approved_template_id(
        template
    ):
        template_variables = _template_variables(
            template, customer=customer, reason=reason, context=template_context
        )
    message = Message(
        customer=customer,
        channel=decision.channel,
        purpose=purpose,
        topic=topic,
        is_marketing=is_marketing,
        subject=subject,
        body=body.strip(),
        sender=sender,
        store=customer.home_store,
        reason=reason,
        template=template,
        variant=variant,
        template_variables=template_variables,
        dedupe_key=dedupe_key,
        scheduled_for=decision.send_at or when,
    )
    if not decision.allowed:
        message.status = Message.Status.SUPPRESSED
        message.suppressed_reason = decision.reason
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # A concurrent call queued the same key first: that one is the message.
        return Message.objects.get(dedupe_key=dedupe_key)
    if sender is not None:
        audit_message_sent(message)
    if deliver_now and message.status == Message.Status.QUEUED and message.scheduled_for <= now:
        from ..tasks import message_deliver as message_deliver_task

        enqueue_on_commit(message_deliver_task, message.pk)
    return message


def _template_variables(
    template: MessageTemplate,
    *,
    customer: Customer,
    reason: Reason | None,
    context: dict[str, str] | None,
) -> dict[str, str]:
    """An approved template's numbered variables ({"1": "Claire", "2": "Soho"}), from the
    names its `whatsapp_variables` lists in order."""
    if context is None:
        associate = customer.assigned_associate
        context = reason_wording_context(
            customer=customer,
            reason=reason,
            associate=associate.display_name if associate else customer.home_store.name,
        )
    names = [name.strip() for name in template.whatsapp_variables.split(",") if name.strip()]
    return {str(number): str(context.get(name, "")) for number, name in enumerate(names, 1)}


def messages_withdraw(*, dedupe_prefix: str, reason: str) -> int:
    """Withdraw the messages of one cause that have not gone yet (a reminder for an
    appointment that moved or was cancelled): queued ones become "not sent", with why.

    A conditional UPDATE on the queued status: a message a worker already claimed goes.
    Returns how many were withdrawn.
    """
    if not dedupe_prefix or not reason:
        raise ValueError("Say which messages and why.")
    return Message.objects.filter(
        dedupe_key__startswith=dedupe_prefix, status=Message.Status.QUEUED
    ).update(status=Message.Status.SUPPRESSED, suppressed_reason=reason[:200])


def _claim(message_id: int, now: datetime.datetime) -> bool:
    return bool(
        Message.objects.filter(
            pk=message_id, status=Message.Status.QUEUED, scheduled_for__lte=now
        ).update(status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _claim_batch(message_ids: list[int], now: datetime.datetime) -> list[int]:
    """Claim the due queued messages among `message_ids` (queued -> sending, one more
    attempt) in one UPDATE ... RETURNING, and return the ids claimed.

    The same conditional UPDATE as `_claim`, for a batch, so of two workers handed the
    same ids each message is returned to one only. On PostgreSQL the rows are locked
    first, in id order, skipping those another claim holds at that moment (FOR UPDATE
    SKIP LOCKED, re-checking the status of rows changed since): overlapping batches
    neither wait for each other nor deadlock. A row skipped so is claimed by the other
    worker, or, if that one rolled back, stays queued for the next sweep."""
    if not message_ids:
        return []
    connection = connections[router.db_for_write(Message)]
    quote, meta = connection.ops.quote_name, Message._meta
    table = quote(meta.db_table)
    pk, status, claimed_at, attempts, scheduled_for = (
        quote(meta.get_field(name).column)
        for name in ("id", "status", "claimed_at", "attempts", "scheduled_for")
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    ids = ", ".join(["%s"] * len(message_ids))
    due = f"{pk} IN ({ids}) AND {status} = %s AND {scheduled_for} <= %s"
    if connection.features.has_select_for_update_skip_locked:
        due = (
            f"{pk} IN (SELECT {pk} FROM {table} WHERE {due} "  # noqa: S608 (names, placeholders)
            f"ORDER BY {pk} FOR UPDATE SKIP LOCKED)"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {status} = %s, {claimed_at} = %s, "  # noqa: S608
            f"{attempts} = {attempts} + 1 WHERE {due} RETURNING {pk}",
            [Message.Status.SENDING, stamp, *message_ids, Message.Status.QUEUED, stamp],
        )
        return [row[0] for row in cursor.fetchall()]


def message_deliver(*, message_id: int) -> str:
    """Deliver one due message (an associate pressed Send): a batch of one, see
    `messages_deliver`. Returns what happened to it ("sent", "reconciled" when the
    provider already had it, "suppressed", "later", "retry", "failed" or "skipped" when
    someone else has it or it is not due)."""
    return messages_deliver(message_ids=[message_id])[message_id]


def messages_deliver(*, message_ids: Iterable[int]) -> dict[int, str]:
    """Deliver a batch of due messages: claim them, check the policy again, send, record.

    1. One UPDATE ... RETURNING claims those still queued and due (queued -> sending):
       two workers handed the same ids never both take a message.
    2. One query loads them with their client, store, preferences, reason and template,
       and `policy_facts_batch` gathers the policy's facts for every client in a few
       set-based queries; each message then passes `evaluate_policy`, the one policy,
       in order (a client's earlier marketing message of the batch counts towards the
       weekly cap of the next, as it would one at a time). Those it refuses, and those
       whose reason closed, become "not sent" with why, and those that must wait for the
       client's quiet hours to end go back to the queue for their time: one UPDATE each.
    3. Each channel's transport sends its messages. A transport that hands a whole batch
       over in one write (`send_batch`: the file and console transports, Django's local
       email backends) gets them at once, and one UPDATE records them "sent" right after.
       Any other (a provider's API, one request a message) sends one at a time, each
       recorded "sent" as soon as the provider answered; a message tried before is first
       looked up at a provider that can say what it holds (`sent_matching`), and a copy
       found is recorded as the send, so nothing goes twice. Before each such send but
       the batch's first, its claim is renewed, if it is still this attempt's: the
       sends before it took time, and a message whose claim the sweep took back when the
       lease ran out (and someone may have claimed again) is left alone, however the
       lease compares with the batch's length.

    Every message is "sending" before its transport is called and "sent" after, so a
    worker killed mid-batch leaves "sending" rows that the sweep re-queues when the lease
    ends, and that are reconciled (Twilio), dropped as repeats by key (the HTTP
    provider), or sent again with the same Message-ID (email), exactly as one at a time.

    Returns what happened to each id (see `message_deliver`).
    """
    ids = list(dict.fromkeys(int(pk) for pk in message_ids))
    outcomes = dict.fromkeys(ids, "skipped")
    now = timezone.now()
    claimed = _claim_batch(ids, now)
    if not claimed:
        return outcomes
    messages = list(
        Message.objects.select_related(
            "customer__home_store", "customer__contact_preferences", "reason", "template"
        )
        .filter(pk__in=claimed)
        .order_by("scheduled_for", "pk")
    )
    facts = policy_facts_batch(
        [message.customer for message in messages],
        now=now,
        exclude_message_ids=set(claimed),
        count_marketing_for={message.customer_id for message in messages if message.is_marketing},
    )
    # Automations' messages: their rule, whether the client is held out of it, whether it
    # is paused (two queries for the batch; the policy refuses both).
    automations = automation_subjects_batch(messages)
    not_sent: dict[int, str] = {}
    later: dict[int, datetime.datetime] = {}
    going: dict[str, list[Message]] = {}
    marketing_going: Counter[int] = Counter()
    for message in messages:
        reason = message.reason
        if reason and reason.state in (Reason.State.RESOLVED, Reason.State.DISMISSED):
            # An automatic reminder whose cause ended meanwhile (they bought it again).
            not_sent[message.pk] = (
                f"No longer needed: {reason.closed_note or 'the reason was closed'}"
            )
            continue
        client_facts = facts[message.customer_id]
        if message.is_marketing and marketing_going[message.customer_id]:
            client_facts = dataclasses.replace(
                client_facts,
                marketing_sent_last_7_days=client_facts.marketing_sent_last_7_days
                + marketing_going[message.customer_id],
            )
        subject, held_out, paused = automations.get(message.pk, (None, frozenset(), frozenset()))
        if subject is not None:
            client_facts = dataclasses.replace(client_facts, held_out=held_out, paused=paused)
        decision = evaluate_policy(
            client_facts,
            channel=message.channel,
            is_marketing=message.is_marketing,
            topic=message.topic,
            at=now,
            templated=templated_channels(message.template),
            subject=subject,
        )
        if not decision.allowed:
            not_sent[message.pk] = decision.reason
        elif decision.send_at and decision.send_at > now:
            # Quiet time began since it was queued: it waits in the database for the sweep.
            later[message.pk] = decision.send_at
        else:
            going.setdefault(message.channel, []).append(message)
            marketing_going[message.customer_id] += message.is_marketing
    if not_sent:
        _update_each(
            "suppressed_reason",
            {pk: why[:200] for pk, why in not_sent.items()},
            status=Message.Status.SUPPRESSED,
            claimed_at=None,
        )
        outcomes.update(dict.fromkeys(not_sent, "suppressed"))
    if later:
        _update_each(
            "scheduled_for", later, status=Message.Status.QUEUED, claimed_at=None, attempts=-1
        )
        outcomes.update(dict.fromkeys(later, "later"))
    senders: dict[int, Sender] = {}
    first = True  # the batch's first send: its claim was just made
    for channel, batch in going.items():
        transport = get_transport(channel)
        if _sends_batch(transport):
            outcomes.update(_send_batch(transport, batch, now, senders, facts))
        else:
            for message in batch:
                outcomes[message.pk] = _send_one(
                    transport, message, now, senders, facts, renew=not first
                )
                first = False
    return outcomes


def _update_each(column: str, values: dict[int, object], *, attempts: int = 0, **fixed) -> int:
    """One UPDATE for a batch: each message (by id) gets its own value of `column`, all
    get the `fixed` values (and `attempts` added), those still "sending" only.

    UPDATE ... FROM (VALUES (id, value), ...): one statement whatever the batch's size,
    and none of the ORM's per-row CASE expressions to build (PostgreSQL and SQLite)."""
    connection = connections[router.db_for_write(Message)]
    ops, meta = connection.ops, Message._meta
    table = ops.quote_name(meta.db_table)

    def column_of(name: str) -> str:
        return ops.quote_name(meta.get_field(name).column)

    def adapt(value):
        if isinstance(value, datetime.datetime):
            return ops.adapt_datetimefield_value(value)
        return value

    assignments = [f"{column_of(name)} = %s" for name in fixed]
    assignments.append(f"{column_of(column)} = v.column2")
    if attempts:
        assignments.append(f"{column_of('attempts')} = {column_of('attempts')} + %s")
    params = [adapt(value) for value in fixed.values()] + ([attempts] if attempts else [])
    for pk, value in values.items():
        params += [pk, adapt(value)]
    params.append(Message.Status.SENDING)
    rows = ", ".join(["(%s, %s)"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} "  # noqa: S608 (names, placeholders)
            f"FROM (VALUES {rows}) AS v WHERE {table}.{column_of('id')} = v.column1 "
            f"AND {table}.{column_of('status')} = %s",
            params,
        )
        return cursor.rowcount


def _sends_batch(transport) -> bool:
    """Whether `transport` hands a whole batch over in one go (`send_batch`). Never for a
    transport that reconciles (`sent_matching`): it sends one at a time."""
    return (
        callable(getattr(transport, "send_batch", None))
        and not hasattr(transport, "sent_matching")
        and getattr(transport, "can_send_batch", True)
    )


def _send_batch(
    transport, messages: list[Message], now: datetime.datetime, senders: dict, facts: dict
) -> dict[int, str]:
    """Hand `messages` (claimed, allowed) to a batch transport at once, then record them:
    the sent in one UPDATE, each failure as `_send_one` would."""
    outgoing = [_outgoing(message, senders, facts[message.customer_id]) for message in messages]
    try:
        results = transport.send_batch(outgoing)
    except TransientTransportError as error:
        results = [error] * len(messages)
    outcomes, sent = {}, {}
    for message, out, result in zip(messages, outgoing, results, strict=True):
        if isinstance(result, SendResult):
            sent[message.pk] = result.provider_id
        else:
            outcomes[message.pk] = _send_failed(message, out.to, result, now)
    if sent:
        _update_each(
            "provider_id",
            {pk: provider_id[:100] for pk, provider_id in sent.items()},
            status=Message.Status.SENT,
            sent_at=timezone.now(),
            claimed_at=None,
        )
        outcomes.update(dict.fromkeys(sent, "sent"))
    return outcomes


def _send_one(
    transport,
    message: Message,
    now: datetime.datetime,
    senders: dict,
    facts: dict,
    *,
    renew: bool,
) -> str:
    """Send one claimed, allowed message through a transport that takes one at a time."""
    if renew:
        # Later in a batch: renew the claim, if it is still ours (the same attempt). One
        # the sweep took back when the lease ran out is someone else's now.
        renewed = Message.objects.filter(
            pk=message.pk, status=Message.Status.SENDING, attempts=message.attempts
        ).update(claimed_at=timezone.now())
        if not renewed:
            return "skipped"
    outgoing = _outgoing(message, senders, facts[message.customer_id])
    try:
        if message.attempts > 1 and hasattr(transport, "sent_matching"):
            # Tried before (a worker died mid-send, a request timed out): the provider may
            # hold it already, and would take it twice. Ask before sending again.
            found = _sent_copy(message, transport, outgoing)
            if found:
                Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                    status=Message.Status.SENT,
                    sent_at=timezone.now(),
                    provider_id=found[:100],
                    claimed_at=None,
                    last_error="",
                )
                logger.info("Message %s was already with the provider: not sent again", message.pk)
                return "reconciled"
        result = transport.send(outgoing)
    except (TransientTransportError, PermanentTransportError) as error:
        return _send_failed(message, outgoing.to, error, now)
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        provider_id=result.provider_id[:100],
        claimed_at=None,
    )
    return "sent"


def _send_failed(message: Message, to: str, error: Exception, now: datetime.datetime) -> str:
    """Record a transport's refusal: a transient one goes back to the queue with backoff
    (or fails after MESSAGE_MAX_ATTEMPTS), a permanent one fails and bounces the address."""
    if isinstance(error, PermanentTransportError):
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(
                status=Message.Status.FAILED, last_error=str(error)[:300], claimed_at=None
            )
            Bounce.objects.get_or_create(
                channel=message.channel, address=to, defaults={"detail": str(error)[:200]}
            )
        return "failed"
    attempts = message.attempts
    if attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.FAILED, last_error=str(error)[:300], claimed_at=None
        )
        return "failed"
    # Back off 1, 2, 4, 8... minutes; the sweep picks it up when it is due again.
    retry_at = now + datetime.timedelta(minutes=2 ** (attempts - 1))
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.QUEUED,
        scheduled_for=retry_at,
        last_error=str(error)[:300],
        claimed_at=None,
    )
    return "retry"


def _outgoing(
    message: Message, senders: dict[int, Sender] | None = None, facts: PolicyFacts | None = None
) -> OutgoingMessage:
    """What the transport gets for `message` (its customer, store and template loaded).
    `senders`: the stores' senders already made (a batch makes each store's once);
    `facts`: the client's policy facts, whose addresses are the ones checked."""
    customer = message.customer
    store = customer.home_store
    senders = {} if senders is None else senders
    sender = senders.get(store.pk) if store is not None else None
    if sender is None:
        sender = Sender.for_store(store, logo_url=store_logo_url(store))
        if store is not None:
            senders[store.pk] = sender
    headers = {}
    spec = channel_spec(message.channel)
    link = ""
    if spec.supports_unsubscribe_link:
        link = unsubscribe_url(customer, spec.consent)
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return OutgoingMessage(
        to=facts.addresses.get(message.channel, "") if facts else spec.address_for(customer),
        body=message.body,
        subject=message.subject,
        dedupe_key=message.dedupe_key,
        headers=headers,
        sender=sender,
        reference=str(message.pk),
        unsubscribe_url=link,
        purpose=message.purpose,
        template_id=spec.approved_template_id(message.template),
        template_variables=message.template_variables if message.template_id else {},
    )


def _sent_copy(message: Message, transport, outgoing: OutgoingMessage) -> str:
    """The provider's id of a copy of `message` it already accepted, or "".

    Candidates are the provider's messages like this one since it was queued; one
    already recorded as another of our messages is that message, not this one."""
    candidates = transport.sent_matching(outgoing, since=message.created_at)
    if not candidates:
        return ""
    taken = set(
        Message.objects.filter(provider_id__in=candidates)
        .exclude(pk=message.pk)
        .values_list("provider_id", flat=True)
    )
    return next((sid for sid in candidates if sid not in taken), "")


def messages_sweep(
    *, now: datetime.datetime | None = None, batch: int = SWEEP_BATCH
) -> dict[str, int]:
    """Find messages whose delivery never ran and hand them to workers.

    - Claims older than the lease (a worker died mid-send) go back to the queue.
    - Due queued messages are handed out in batches, one delivery task each
      (`messages_deliver`: DELIVERY_BATCH a task, PROVIDER_BATCH on channels whose
      transport sends one at a time). A duplicate task is harmless: the claim lets one
      through. At most `batch` messages per run; the caller re-runs while it is full.
    """
    now = now or timezone.now()
    lease = now - datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS)
    requeued = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=lease).update(
        status=Message.Status.QUEUED, claimed_at=None
    )
    rows = list(Message.objects.due(now).order_by("scheduled_for").values_list("pk", "channel"))
    tasks = messages_hand_out(rows[:batch])
    return {"requeued": requeued, "enqueued": len(rows[:batch]), "tasks": tasks}


def messages_hand_out(rows: list[tuple[int, str]], *, on_commit: bool = False) -> int:
    """Hand (message id, channel) pairs to workers: one `messages_deliver` task per
    DELIVERY_BATCH, or PROVIDER_BATCH on channels whose transport sends one at a time.
    `on_commit`: once the caller's transaction commits (the messages exist for the
    worker). Returns how many tasks."""
    from ..tasks import messages_deliver as messages_deliver_task

    due: dict[str, list[int]] = {}
    for message_id, channel in rows:
        due.setdefault(channel, []).append(message_id)
    tasks = 0
    for channel, ids in due.items():
        size = DELIVERY_BATCH
        if is_channel(channel) and not _sends_batch(get_transport(channel)):
            size = PROVIDER_BATCH
        for start in range(0, len(ids), size):
            if on_commit:
                enqueue_on_commit(messages_deliver_task, ids[start : start + size])
            else:
                messages_deliver_task.delay(ids[start : start + size])
            tasks += 1
    return tasks


@dataclass(frozen=True)
class SmsReceived:
    """What became of a text from a client (see `sms_received`)."""

    clients: int
    keyword: str | None = None
    revoked: int = 0
    granted: int = 0
    # The text to send back at once (a keyword's confirmation), or "".
    reply: str = ""
    # The provider delivered this text before (a retried webhook): nothing was done.
    duplicate: bool = False


def _store_texted(*, to_number: str, messaging_service_sid: str) -> Store | None:
    """The store whose number (its texts' or its WhatsApp sender, or its Messaging
    Service) the client wrote to, if it is one."""
    match = Q(pk__in=[])
    if to_number:
        match |= Q(sms_from_number=to_number) | Q(whatsapp_from_number=to_number)
    if messaging_service_sid:
        match |= Q(twilio_messaging_service_sid=messaging_service_sid)
    return Store.objects.filter(match).order_by("pk").first()


def _sender_numbers(from_number: str, store: Store | None) -> list[str]:
    """The E.164 forms of the sender's number: a national number is read in the country
    of the store texted, else the default region, else each store's country."""
    regions = [store.country] if store is not None and store.country else []
    regions.append(settings.PHONENUMBER_DEFAULT_REGION)
    numbers: list[str] = []
    for region in dict.fromkeys(regions):
        numbers += [n for n in phone_candidates(from_number, region=region) if n not in numbers]
    if not numbers:
        countries = Store.objects.exclude(country="").values_list("country", flat=True)
        for region in countries.distinct():
            numbers += [n for n in phone_candidates(from_number, region=region) if n not in numbers]
    return numbers


def _withdrew(customer: Customer, consent: str) -> bool:
    event = customer.current_consents().get(consent)
    return event is not None and not event.granted


# The built-in answers to carrier keywords (a manager's template for the purpose wins:
# `message_wording`); `messages` is what the client gets ("texts", "WhatsApp messages").
KEYWORD_WORDS = {
    "keyword_stop": "You won't get more {{ messages }} from {{ store }}. Reply START to opt back in.",
    "keyword_start": "You'll get {{ messages }} from {{ store }} again. Reply STOP to opt out.",
    "keyword_help": (
        "{{ store }}.{% if store_phone %} Call us on {{ store_phone }}.{% endif %} "
        "Reply STOP to opt out, START to opt back in."
    ),
}


def _confirmation(keyword: str, store: Store | None, *, channel: str, noun: str) -> str:
    """The answer to a keyword, in the store's name, worded by `message_wording`."""
    purpose = f"keyword_{keyword}"
    context = {
        "store": store.name if store is not None else "us",
        "store_phone": str(store.phone) if store is not None and store.phone else "",
        "messages": noun,
    }
    return message_wording(
        purpose=purpose, channel=channel, context=context, default=KEYWORD_WORDS[purpose]
    )


def _consent_by_reply(customers, channel: str, *, granted: bool, words: str) -> int:
    """Record a keyword reply (STOP, START) as each matched client's own consent change, in
    their words; returns how many changed."""
    return sum(
        consent_record(
            customer=customer,
            channel=channel,
            granted=granted,
            source=Source.SMS_REPLY,
            wording=words,
            only_if_changed=True,
        )
        is not None
        for customer in customers
    )


def sms_received(
    *,
    from_number: str,
    body: str,
    to_number: str = "",
    messaging_service_sid: str = "",
    provider_id: str = "",
    channel: str = "",
) -> SmsReceived:
    """A text from a client, as the provider delivered it (or, with `channel`, a message
    on another channel reached by phone number: "whatsapp"; what follows then holds for
    that channel and its consent, and texts are left as they were).

    - STOP and its friends (`keywords.keyword_of`) revoke SMS consent at once (the
      client's own act, in their words) for every client with that number, in any
      format, and suppress the number itself (`suppression`), so the opt-out outlives
      erasure and re-imports; a STOP from a number we cannot match is still suppressed.
    - START and UNSTOP opt back in and lift the suppression. YES does too when it undoes
      an opt-out; otherwise "Yes" is an answer, for the associate.
    - HELP and INFO are answered with the store's name and phone.
    - Anything else joins the client's conversation (`client_replied`).
    With `provider_id` (Twilio's MessageSid), a text handled before records nothing and
    gets no reply: a retried webhook never confirms twice.
    """
    spec = channel_spec(channel or sms_channel.SPEC.code)
    sms_consent = spec.consent
    noun = "texts" if spec.code == sms_channel.SPEC.code else spec.noun
    with transaction.atomic():
        if provider_id:
            try:
                with transaction.atomic():
                    InboundMessage.objects.create(provider_id=provider_id[:100])
            except IntegrityError:
                return SmsReceived(clients=0, duplicate=True)
        store = _store_texted(to_number=to_number, messaging_service_sid=messaging_service_sid)
        numbers = _sender_numbers(from_number, store)
        customers = list(
            Customer.objects.not_erased()
            .filter(phone__in=numbers)
            .select_related("home_store")
            .order_by("pk")
        )
        if store is None and customers:
            store = customers[0].home_store
        match = keyword_match(body)
        words = body.strip()
        if match is not None and match.kind == "stop":
            revoked = _consent_by_reply(customers, sms_consent, granted=False, words=words)
            for number in {str(customer.phone) for customer in customers} or numbers[:1]:
                suppression_add(channel=sms_consent, address=number)
            return SmsReceived(
                clients=len(customers),
                keyword="stop",
                revoked=revoked,
                reply=_confirmation("stop", store, channel=spec.code, noun=noun),
            )
        if match is not None and match.kind == "start":
            opted_out = any(
                is_suppressed(channel=sms_consent, address=number) for number in numbers
            ) or any(_withdrew(customer, sms_consent) for customer in customers)
            if match.word != "yes" or opted_out:
                granted = _consent_by_reply(customers, sms_consent, granted=True, words=words)
                for number in numbers:
                    suppression_lift(channel=sms_consent, address=number)
                return SmsReceived(
                    clients=len(customers),
                    keyword="start",
                    granted=granted,
                    reply=_confirmation("start", store, channel=spec.code, noun=noun),
                )
        if match is not None and match.kind == "help":
            return SmsReceived(
                clients=len(customers),
                keyword="help",
                reply=_confirmation("help", store, channel=spec.code, noun=noun),
            )
        for customer in customers:
            client_replied(customer=customer, channel=spec.code, body=body)
        return SmsReceived(clients=len(customers))


INBOUND_PRUNE_BATCH = 5000


def inbound_messages_prune(
    *, now: datetime.datetime | None = None, batch: int = INBOUND_PRUNE_BATCH
) -> int:
    """Forget the ids of inbound messages handled more than INBOUND_MESSAGE_RETENTION_DAYS
    ago: a provider retries a webhook for minutes or hours, not weeks, so after that the
    id guards against nothing. Deletes at most `batch` rows (one DELETE ... WHERE pk IN
    (SELECT ... LIMIT batch)); returns how many, and the caller runs it again while that
    is `batch`. The table holds a few rows per client reply and no content: it is small,
    so the scan on received_at needs no index of its own."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.INBOUND_MESSAGE_RETENTION_DAYS)
    old = InboundMessage.objects.filter(received_at__lt=cutoff).order_by("pk")[:batch]
    deleted, _ = InboundMessage.objects.filter(pk__in=old.values("pk")).delete()
    return deleted


def sms_inbound(*, from_number: str, body: str, **provider) -> dict[str, int]:
    """A text from a client (the generic provider's webhook): see `sms_received`.
    Returns how many clients have the number and how many withdrew their consent."""
    received = sms_received(from_number=from_number, body=body, **provider)
    return {"clients": received.clients, "revoked": received.revoked}


def email_inbound(*, from_address: str, subject: str, body: str) -> dict[str, int]:
    """An email from a client (the provider's inbound parse): into their conversation."""
    customers = list(
        Customer.objects.filter(email=from_address.strip().lower()).select_related("home_store")
    )
    text = f"{subject.strip()}\n\n{body.strip()}" if subject.strip() else body.strip()
    for customer in customers:
        client_replied(customer=customer, channel=email_channel.SPEC.code, body=text)
    return {"clients": len(customers)}


@transaction.atomic
def client_replied(*, customer: Customer, channel: str, body: str):
    """The client wrote back: the message joins their conversation on the card, and a
    reason tells their associate, or everyone at the store when the associate is away,
    so nobody answers from a personal phone and nobody goes unanswered."""
    from ..models import Contact
    from .reasons import Candidate, reasons_open

    contact = Contact.objects.create(
        customer=customer,
        channel=channel,
        direction=Contact.Direction.INBOUND,
        outcome=Contact.Outcome.REACHED,
        body=body.strip()[:2000],
    )
    snippet = " ".join(body.split())
    snippet = snippet if len(snippet) <= 120 else snippet[:117] + "…"
    by = channel_spec(channel).by
    reasons_open(
        kind=Reason.Kind.CLIENT_REPLIED,
        candidates=[
            Candidate(
                customer_id=customer.pk,
                source_key=f"contact:{contact.pk}",
                why=f"{customer.first_name} wrote back {by}: “{snippet}”",
                due_on=timezone.localdate(),
            )
        ],
    )
    from .notices import client_replied_notify

    client_replied_notify(customer=customer, channel=channel)  # their phone rings (Web Push)
    return contact


def message_provider_accepted(*, reference: str, provider_id: str) -> bool:
    """The provider says it has our message `reference` (its id) under `provider_id` (a
    status callback, a tracking event): record that it went, whether or not the worker
    that sent it lived to write so. A message still "sending" (the worker is between the
    provider's answer and its own write, or died there) or queued again (a request that
    timed out after the provider took it, or failed after too many of those) becomes
    sent, so it never goes twice; the worker's own write, if it comes, changes nothing.

    A reference that is not one of our messages, or one holding another provider id, is
    ignored. Returns whether the message now holds `provider_id`.
    """
    if not provider_id or not reference.isdigit():
        return False
    provider_id = provider_id[:100]
    in_flight = Q(status__in=[Message.Status.SENDING, Message.Status.QUEUED]) & (
        Q(provider_id="") | Q(provider_id=provider_id)
    )
    # Failed for want of an answer (timeouts until MESSAGE_MAX_ATTEMPTS), yet it went.
    failed_unanswered = Q(status=Message.Status.FAILED, provider_id="")
    unsent = Message.objects.filter(in_flight | failed_unanswered, pk=int(reference))
    if unsent.update(
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        provider_id=provider_id,
        claimed_at=None,
        last_error="",
    ):
        logger.info("Message %s recorded as sent from the provider's word", reference)
        return True
    return Message.objects.filter(pk=int(reference), provider_id=provider_id).exists()


def message_delivery_update(
    *,
    provider_id: str,
    status: str,
    reason: str = "",
    bad_address: bool | None = None,
    reference: str = "",
) -> int:
    """A provider's delivery receipt: "delivered", or "failed" / "undelivered".

    A failure records `reason` (plain words) on the message. Whether the address is then
    bounced (nothing more goes to it): at once when the provider does not say why
    (`bad_address` None: the generic provider); when it says the address itself is bad,
    once SMS_BAD_NUMBER_FAILURES of the client's messages failed so (a phone can be off
    once); never for other causes (a carrier's spam filter). Repeating a receipt changes
    nothing more. With `reference` (our message id, as Twilio's status callback URL
    carries it), a receipt that arrives before the provider id was recorded still finds
    its message (`message_provider_accepted`). Returns how many messages it updated.
    """
    if reference:
        message_provider_accepted(reference=reference, provider_id=provider_id)
    messages = Message.objects.filter(provider_id=provider_id).exclude(provider_id="")
    if status == "delivered":
        return messages.filter(
            Q(status=Message.Status.SENT) | Q(status=Message.Status.DELIVERED)
        ).update(status=Message.Status.DELIVERED, delivered_at=timezone.now())
    if status in ("failed", "undelivered"):
        count = 0
        for message in messages.select_related("customer"):
            with transaction.atomic():
                count += Message.objects.filter(pk=message.pk).update(
                    status=Message.Status.FAILED,
                    last_error=(reason or "Not delivered")[:300],
                    bad_address=bool(bad_address),
                )
                if bad_address is False:
                    continue
                if bad_address:
                    failures = Message.objects.filter(
                        customer=message.customer,
                        channel=message.channel,
                        status=Message.Status.FAILED,
                        bad_address=True,
                    ).count()
                    if failures < settings.SMS_BAD_NUMBER_FAILURES:
                        continue
                address = channel_spec(message.channel).address_for(message.customer)
                if address:
                    Bounce.objects.get_or_create(
                        channel=message.channel,
                        address=address,
                        defaults={"detail": (reason or "Provider receipt")[:200]},
                    )
        return count
    raise ApplicationError(f"Unknown delivery status “{status}”.", field="status")


AUTOMATION_BATCH = 2000


def variant_for(*, rule_id: int, customer_id: int) -> str:
    """Which of a template's two wordings ("A" or "B") a client gets from a rule.

    A hash of the rule and the client, not a random draw: a client always gets the same
    wording from a rule (their next birthday message too), and about half get each.
    SHA-256 rather than hash(), which Python salts per process.
    """
    digest = hashlib.sha256(f"{rule_id}:{customer_id}".encode()).digest()
    return "AB"[digest[0] % 2]


def _automation_due_reasons(rule, now: datetime.datetime):
    """Open reasons of the rule's kind, due, without a message, of clients not held out
    of the rule (see `automations_run` for why a held-out client's reason stays open)."""
    from ..models import Exposure

    held_out = Exposure.objects.filter(
        customer_id=OuterRef("customer_id"),
        subject=Exposure.Subject.AUTOMATION,
        subject_id=rule.pk,
        group=Exposure.Group.HOLDOUT,
    )
    return (
        Reason.objects.open()
        .filter(kind=rule.reason_kind, due_on__lte=timezone.localdate(now))
        .exclude(messages__isnull=False)
        .exclude(Exists(held_out))
    )


def _automation_start(rule, now: datetime.datetime) -> datetime.datetime | None:
    """Since when a rule counts its reasons: since it was switched on (a rule not sending
    yet: as if switched on now). None for a rule that sent before `enabled_at` existed."""
    return rule.enabled_at if rule.sends else now


def automation_reasons(rule, *, now: datetime.datetime | None = None):
    """The reasons a rule sends for: open, of its kind, due, without a message yet, and,
    unless the manager ticked "include the backlog", opened since the rule was switched
    on. The one selection `automations_run` sends from and the admin counts."""
    now = now or timezone.now()
    reasons = _automation_due_reasons(rule, now)
    start = None if rule.include_backlog else _automation_start(rule, now)
    return reasons if start is None else reasons.filter(created_at__gte=start)


@dataclass(frozen=True)
class AutomationReach:
    """How many clients a rule would message if the hourly run happened now."""

    now: int
    # Clients whose reasons were already open when it was switched on: left out unless
    # "include the backlog" is ticked.
    backlog: int


def automation_reach(rule, *, now: datetime.datetime | None = None) -> AutomationReach:
    """Count, without sending, the clients `automations_run` would message for `rule` now
    (as if it were switched on, when it is not), and those of the backlog. Two
    COUNT(DISTINCT customer) queries."""
    now = now or timezone.now()
    start = _automation_start(rule, now)
    backlog = 0
    if start is not None:
        backlog = (
            _automation_due_reasons(rule, now)
            .filter(created_at__lt=start)
            .values("customer_id")
            .distinct()
            .count()
        )
    reached = automation_reasons(rule, now=now).values("customer_id").distinct().count()
    return AutomationReach(now=reached, backlog=backlog)


def automation_rule_save(*, rule, was_sending: bool, now: datetime.datetime | None = None):
    """Save a rule as a manager set it. Switching it on (active, "send automatically")
    starts `enabled_at` now, so it sends only for reasons opened from then on unless
    "include the backlog" is ticked; switching it off clears both, so switching it on
    again later starts afresh."""
    if rule.sends and not was_sending:
        rule.enabled_at = now or timezone.now()
        # Switched back on after the nightly verdict paused it: a fresh start.
        rule.paused_at, rule.pause_reason, rule.below_zero_since = None, "", None
    elif not rule.sends:
        rule.enabled_at = None
        rule.include_backlog = False
    rule.full_clean()
    rule.save()
    return rule


def automations_run(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Queue the messages that active "send automatically" rules ask for.

    One message per reason (dedupe key "reason:<id>"), so running it every hour queues
    each once; only for reasons opened since the rule was switched on, unless it
    includes the backlog (`automation_reasons`). The policy still decides: a client over their weekly cap or in quiet
    hours gets a suppressed or a later message, recorded with why. When the rule's
    template has two wordings (A and B), each client gets one (`variant_for`); the
    message records its template and wording for the performance page.

    Its holdout: each client a rule would message is recorded as eligible once
    (`exposure_record`, the rule's `holdout_percent`, deterministic per client and rule);
    a client who falls in the holdout gets no message, now or ever, from this rule (the
    policy refuses it too, on any path: `offer_or_automation`). Their reason is left as
    it is, open on the associate's Today like a messaged client's reason (an automation's
    message does not close it either), and without any trace of the automation (no
    "not sent" message on the card that would invite the associate to make up for it):
    the holdout then measures the automation against exactly "no automation". The
    hourly run does not look at it again: `_automation_due_reasons` leaves out clients
    held out of the rule (an EXISTS on the exposure). A paused rule sends nothing.
    Returns {"queued": n}, with "held_out": n when clients were held out.
    """
    from ..models import AutomationRule, Exposure
    from .holdout import exposure_record

    now = now or timezone.now()
    queued = held_out = 0
    # Due at once (a morning's reminders): handed to workers in batches, not one task each.
    due: list[tuple[int, str, datetime.datetime]] = []
    rules = (
        AutomationRule.objects.filter(
            is_active=True,
            mode=AutomationRule.Mode.SEND,
            template__is_active=True,
            paused_at__isnull=True,
        )
        .select_related("template")
        .prefetch_related("template__variants")
    )
    for rule in rules:
        wordings = {variant.letter: variant for variant in rule.template.variants.all()}
        has_two_wordings = {"A", "B"} <= wordings.keys()
        reasons = automation_reasons(rule, now=now).select_related(
            "customer__home_store", "customer__assigned_associate__user", "product"
        )
        for reason in reasons.iterator(chunk_size=AUTOMATION_BATCH):
            customer = reason.customer
            exposure = exposure_record(
                customer=customer,
                subject=Exposure.Subject.AUTOMATION,
                subject_id=rule.pk,
                share_percent=rule.holdout_percent,
                at=now,
            )
            if exposure.group == Exposure.Group.HOLDOUT:
                held_out += 1
                continue
            associate = customer.assigned_associate
            sender_name = associate.display_name if associate else customer.home_store.name
            context = reason_wording_context(
                customer=customer, reason=reason, associate=sender_name
            )
            letter = (
                variant_for(rule_id=rule.pk, customer_id=customer.pk) if has_two_wordings else ""
            )
            wording = wordings[letter] if letter else rule.template
            spec = reason_kind(reason.kind)
            message = message_queue(
                customer=customer,
                channel=None if rule.channel == PREFERRED_CHANNEL else rule.channel,
                body=render_template_text(wording.body, context),
                subject=render_template_text(wording.subject, context),
                template=rule.template,
                variant=letter,
                purpose=reason.kind,
                topic=spec.topic or "",
                is_marketing=rule.is_marketing and spec.is_marketing,
                reason=reason,
                dedupe_key=f"reason:{reason.pk}",
                scheduled_for=max(
                    now, reason.created_at + datetime.timedelta(hours=rule.delay_hours)
                ),
                offer_or_automation=(Exposure.Subject.AUTOMATION, rule.pk),
                deliver_now=False,
            )
            if message.status == Message.Status.QUEUED:
                due.append((message.pk, message.channel, message.scheduled_for))
            queued += 1
    # Those due by now (the policy may have moved one past the client's quiet hours: the
    # sweep hands it out at its time).
    until = timezone.now()
    messages_hand_out([(pk, channel) for pk, channel, when in due if when <= until], on_commit=True)
    return {"queued": queued, "held_out": held_out} if held_out else {"queued": queued}
