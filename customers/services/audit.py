from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..models import AuditEvent, Customer


def audit_record(
    *,
    request: HttpRequest,
    action: str,
    customer: Customer | None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the person behind `request` did `action` on a client's data.

    The address is the one Django sees (REMOTE_ADDR): behind a proxy, configure the proxy
    to set it rather than trusting a header any client can send.
    """
    return AuditEvent.objects.create(
        actor=request.user if request.user.is_authenticated else None,
        action=action,
        customer=customer,
        customer_ref=customer.pk if customer else None,
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.headers.get("User-Agent", "")[:200],
        path=request.get_full_path()[:300],
        detail=detail or {},
    )


def audit_consent_changes(events) -> int:
    """Put consent changes in the audit trail too (one row each, in one INSERT): who
    recorded it (the staff member, or nobody when the client or an integration did) and
    what changed. The consent history itself stays the record of what is in force."""
    rows = [
        AuditEvent(
            actor_id=event.recorded_by_id,
            action=AuditEvent.Action.CONSENT,
            customer_id=event.customer_id,
            customer_ref=event.customer_id,
            at=event.recorded_at,
            detail={"channel": event.channel, "granted": event.granted, "source": event.source},
        )
        for event in events
    ]
    AuditEvent.objects.bulk_create(rows)
    return len(rows)


def audit_message_sent(message) -> AuditEvent:
    """A message a person sent (automations are in the outbox, with their rule)."""
    return AuditEvent.objects.create(
        actor_id=message.sender_id,
        action=AuditEvent.Action.MESSAGE,
        customer_id=message.customer_id,
        customer_ref=message.customer_id,
        detail={
            "message": message.pk,
            "channel": message.channel,
            "purpose": message.purpose,
            "status": message.status,
        },
    )
