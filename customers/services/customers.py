from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber, to_python

from clienteling.core.errors import ApplicationError
from clienteling.stores.models import StaffMember, Store

from ..models import Customer, Reason, Source
from ..selectors import book_size_forget
from .consent import (
    ConsentAnswer,
    ConsentChange,
    consent_address_attribute,
    consent_wording,
    consents_record,
)


def customer_duplicates(
    *, email: str = "", phone: PhoneNumber | str | None = None
) -> QuerySet[Customer]:
    """Clients who already have this email or phone: exact matches only, across all stores."""
    condition = Q()
    if email:
        condition |= Q(email=email.strip().lower())
    if phone:
        condition |= Q(phone=phone)
    if not condition:
        return Customer.objects.none()
    return Customer.objects.filter(condition).select_related("home_store")


@transaction.atomic
def customer_create(
    *,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: PhoneNumber | str | None = None,
    home_store: Store,
    assigned_associate: StaffMember | None,
    joined_via: str = Customer.JoinedVia.IN_STORE,
    consents: list[ConsentAnswer] = (),
    consent_source: str = Source.ASSOCIATE,
    recorded_by: AbstractBaseUser | None = None,
) -> Customer:
    """Create a client with the consents they gave, each kept with its wording and who took it.

    Refuses a second record for an email or phone already on file: the existing client
    should be used instead (a duplicate splits their history and their consents).
    """
    email = email.strip().lower()
    if not (email or phone):
        raise ApplicationError(
            "Give a phone number or an email, so we can reach the client.", field="phone"
        )
    if customer_duplicates(email=email, phone=phone).exists():
        raise ApplicationError("A client with this phone or email already exists.", field="phone")
    customer = Customer(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        phone=phone or "",
        home_store=home_store,
        assigned_associate=assigned_associate,
        joined_via=joined_via,
    )
    customer.full_clean()
    customer.save()
    if assigned_associate is not None:
        book_size_forget(assigned_associate.pk)
    consents_record(
        changes=[
            ConsentChange(
                customer_id=customer.pk,
                channel=answer.channel,
                granted=answer.granted,
                source=consent_source,
                wording=consent_wording(answer.channel, home_store),
                by=recorded_by,
            )
            for answer in consents
        ],
        # A new client has no consent in force yet: every answer is recorded.
        only_if_changed=False,
    )
    return customer


@dataclass(frozen=True)
class SignupResult:
    customer: Customer
    created: bool


def _proven_addresses(customer: Customer, *, email: str, phone) -> set[str]:
    """The client's address attributes that the person typed in, matching the client's own."""
    proven = set()
    if email and customer.email and customer.email.lower() == email:
        proven.add("email")
    if phone and customer.phone and str(customer.phone) == str(to_python(phone) or ""):
        proven.add("phone")
    return proven


@transaction.atomic
def customer_self_signup(
    *,
    store: Store,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: PhoneNumber | str | None = None,
    consents: list[ConsentAnswer] = (),
    associate: StaffMember | None = None,
    at_counter: bool = True,
) -> SignupResult:
    """A client signs up on their own phone at the counter: create them, or match who they are.

    A matching email or phone means they are already a client: their consents are updated
    (only where they changed) and nothing else about them is touched or revealed. Either
    way a "signed up" reason tells the associate at the counter (or the store's team).

    `at_counter=False` is for clients who give their details away from the store (booking
    an appointment online): a new client joins as online, and no "signed up" reason asks
    the counter to greet someone who is not there (the appointment is what staff see).
    """
    email = email.strip().lower()
    existing = customer_duplicates(email=email, phone=phone).order_by("pk").first()
    if existing is None:
        customer = customer_create(
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            home_store=store,
            assigned_associate=associate,
            joined_via=Customer.JoinedVia.SELF_SIGNUP if at_counter else Customer.JoinedVia.ONLINE,
            consents=consents,
            consent_source=Source.CLIENT,
        )
    else:
        customer = existing
        # A match by one address is not proof of the other: only the channels whose
        # address the person typed, and which are the client's own, take their answer
        # (someone typing a client's email and their own number changes nothing of hers).
        proven = _proven_addresses(customer, email=email, phone=phone)
        consents_record(
            changes=[
                ConsentChange(
                    customer_id=customer.pk,
                    channel=answer.channel,
                    granted=answer.granted,
                    source=Source.CLIENT,
                    wording=consent_wording(answer.channel, store),
                )
                for answer in consents
                if consent_address_attribute(answer.channel) in proven
            ]
        )
    if not at_counter:
        return SignupResult(customer=customer, created=existing is None)
    today = timezone.localdate()
    Reason.objects.get_or_create(
        customer=customer,
        kind=Reason.Kind.SIGNED_UP,
        source_key=f"signup:{today.isoformat()}",
        state=Reason.State.OPEN,
        defaults={
            "why": (
                f"{customer.first_name} signed up at {store.name} just now: say hello and welcome {customer.first_name}."
                if existing is None
                else f"{customer.first_name}, already a client, signed up again at {store.name} just now: greet {customer.first_name} by name."
            ),
            "due_on": today,
            "score": 90,
            "score_parts": {"urgency": 60, "likelihood": 30},
            "order": None,
        },
    )
    return SignupResult(customer=customer, created=existing is None)
