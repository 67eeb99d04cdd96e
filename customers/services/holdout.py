"""Who is held out of an offer or an automation: deterministic per client and subject.

`holdout_group` hashes (subject, subject id, client id) into 10,000 buckets: the same
client always falls in the same group of the same offer, on any worker, and different
offers hold out different clients. `exposure_record` writes the moment a client became
eligible, once (a repeat returns the first row), so the performance page can compare the
offer group with the holdout from that moment on.
"""

from __future__ import annotations

import datetime
import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Customer
from ..models.offers import Exposure

BUCKETS = 10_000


def holdout_group(*, customer_id: int, subject: str, subject_id: int, share_percent: int) -> str:
    """`Exposure.Group.HOLDOUT` for a fixed `share_percent` of clients, else TREATED."""
    digest = hashlib.sha256(f"{subject}:{subject_id}:{customer_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % BUCKETS
    if bucket < share_percent * BUCKETS // 100:
        return Exposure.Group.HOLDOUT
    return Exposure.Group.TREATED


def exposure_record(
    *,
    customer: Customer,
    subject: str,
    subject_id: int,
    share_percent: int,
    at: datetime.datetime | None = None,
) -> Exposure:
    """Record that the client became eligible (once); returns the row with its group."""
    existing = Exposure.objects.filter(
        customer=customer, subject=subject, subject_id=subject_id
    ).first()
    if existing is not None:
        return existing
    group = holdout_group(
        customer_id=customer.pk, subject=subject, subject_id=subject_id, share_percent=share_percent
    )
    try:
        with transaction.atomic():
            return Exposure.objects.create(
                customer=customer,
                store_id=customer.home_store_id,
                subject=subject,
                subject_id=subject_id,
                group=group,
                exposed_at=at or timezone.now(),
            )
    except IntegrityError:
        # Another worker recorded it first: theirs is the one.
        return Exposure.objects.get(customer=customer, subject=subject, subject_id=subject_id)
