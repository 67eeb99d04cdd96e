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
