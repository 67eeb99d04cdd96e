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

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from clienteling.channels import (
    OutgoingMessage,
    PermanentTransportError,
    Sender,
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
from .policy import message_policy
from .suppression import is_suppressed, phone_candidates, suppression_add, suppression_lift
from .wording import message_wording, reason_wording_context, render_template_text

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "customers.unsubscribe"
SWEEP_BATCH = 1000


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
) -> Message:
    """Write a message to the outbox and deliver it after commit (or at its time).

    Call it inside the transaction that causes the message: if that rolls back, there is
    no message. The same dedupe key twice returns the first message: queueing is
    idempotent. The policy is checked now, so the caller learns at once if the message
    can't go (it is recorded as not sent, with why), and again at delivery.

    A `template` with an approved version on the channel (WhatsApp's Content SID) makes
    the message that approved template, with its variables taken from
    `template_context` (by default the client's, their associate's and store's names).
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
    if message.status == Message.Status.QUEUED and message.scheduled_for <= now:
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


def message_deliver(*, message_id: int) -> str:
    """Deliver one due message: claim it, check the policy again, send, record the outcome.

    A message tried before (its worker died mid-send, or the provider's answer timed
    out) is first looked up at a provider that can say what it holds (`sent_matching`):
    a copy found is recorded as the send, and nothing goes twice.

    Returns what happened ("sent", "reconciled" when the provider already had it,
    "suppressed", "later", "retry", "failed" or "skipped" when someone else has it or it
    is not due).
    """
    now = timezone.now()
    if not _claim(message_id, now):
        return "skipped"
    message = Message.objects.select_related(
        "customer__home_store", "customer__contact_preferences", "reason", "template"
    ).get(pk=message_id)
    customer = message.customer
    if message.reason and message.reason.state in (Reason.State.RESOLVED, Reason.State.DISMISSED):
        # An automatic reminder whose cause ended meanwhile (they bought it again).
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.SUPPRESSED,
            suppressed_reason=f"No longer needed: {message.reason.closed_note or 'the reason was closed'}",
            claimed_at=None,
        )
        return "suppressed"
    decision = message_policy(
        customer=customer,
        channel=message.channel,
        is_marketing=message.is_marketing,
        topic=message.topic,
        at=now,
        exclude_message_id=message.pk,
        template=message.template,
    )
    if not decision.allowed:
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.SUPPRESSED, suppressed_reason=decision.reason, claimed_at=None
        )
        return "suppressed"
    if decision.send_at and decision.send_at > now:
        # Quiet time began since it was queued: it waits in the database for the sweep.
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.QUEUED,
            scheduled_for=decision.send_at,
            claimed_at=None,
            attempts=F("attempts") - 1,
        )
        return "later"
    outgoing = _outgoing(message)
    to = outgoing.to
    transport = get_transport(message.channel)
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
    except TransientTransportError as error:
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
    except PermanentTransportError as error:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(
                status=Message.Status.FAILED, last_error=str(error)[:300], claimed_at=None
            )
            Bounce.objects.get_or_create(
                channel=message.channel, address=to, defaults={"detail": str(error)[:200]}
            )
        return "failed"
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        provider_id=result.provider_id[:100],
        claimed_at=None,
    )
    return "sent"


def _outgoing(message: Message) -> OutgoingMessage:
    """What the transport gets for `message` (its customer, store and template loaded)."""
    customer = message.customer
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
        to=spec.address_for(customer),
        body=message.body,
        subject=message.subject,
        dedupe_key=message.dedupe_key,
        headers=headers,
        sender=Sender.for_store(customer.home_store, logo_url=store_logo_url(customer.home_store)),
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
    - Due queued messages get a delivery task (a duplicate task is harmless: the claim
      lets one through). At most `batch` per run; the caller re-runs while it is full.
    """
    now = now or timezone.now()
    lease = now - datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS)
    requeued = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=lease).update(
        status=Message.Status.QUEUED, claimed_at=None
    )
    from ..tasks import message_deliver as message_deliver_task

    due = list(
        Message.objects.due(now).order_by("scheduled_for").values_list("pk", flat=True)[:batch]
    )
    for message_id in due:
        message_deliver_task.delay(message_id)
    return {"requeued": requeued, "enqueued": len(due)}


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
    return (
        Reason.objects.open()
        .filter(kind=rule.reason_kind, due_on__lte=timezone.localdate(now))
        .exclude(messages__isnull=False)
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
    """
    from ..models import AutomationRule

    now = now or timezone.now()
    queued = 0
    rules = (
        AutomationRule.objects.filter(
            is_active=True, mode=AutomationRule.Mode.SEND, template__is_active=True
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
            message_queue(
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
            )
            queued += 1
    return {"queued": queued}
