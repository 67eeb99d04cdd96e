"""Two records of one person become one: the customers half of a merge.

`clienteling.privacy.customer_merge` moves the appointments' rows first and then calls
`customer_merge` here; this module cannot name those rows (customers never imports
appointments), so it refuses to delete a duplicate that other apps still point to.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from clienteling.core.errors import ApplicationError

from ..models import (
    AuditEvent,
    ClientOffer,
    ConsentEvent,
    Contact,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Message,
    Note,
    Order,
    PointsMovement,
    Preference,
    Reason,
    Recommendation,
    Selection,
    Size,
)
from ..selectors import book_size_forget
from .privacy import customer_is_erased, manages_store, privacy_audit
from .reasons import reasons_refresh_after_commit
from .totals import customer_refresh_totals

# Profile fields the survivor takes from the duplicate when it has none of its own.
FILLED_FROM_DUPLICATE = ["last_name", "email", "phone", "birthday", "anniversary", "time_zone"]
EXTERNAL_IDS = ["pos_customer_id", "ecommerce_customer_id"]
OPEN_STATES = [Reason.State.OPEN, Reason.State.SNOOZED]


def customer_merge_check(*, survivor: Customer, duplicate: Customer, by: AbstractBaseUser) -> None:
    """Refuse what may not be merged, with a sentence for the person asking."""
    if survivor.pk == duplicate.pk:
        raise ApplicationError("Choose two different clients to merge.")
    if customer_is_erased(survivor) or customer_is_erased(duplicate):
        # Joining an erased record to a known person would undo the erasure.
        raise ApplicationError("An erased client cannot be merged.")
    if survivor.home_store_id != duplicate.home_store_id and not by.is_superuser:
        raise ApplicationError(
            "These clients belong to different stores: only an administrator can merge them."
        )
    if not manages_store(user=by, store_id=survivor.home_store_id):
        raise ApplicationError("Only a manager of the clients' store can merge them.")


def _held_elsewhere(customer: Customer) -> list[str]:
    """Rows of other apps still pointing to the client, found through the model's
    relations (this app may not import the apps above it)."""
    held = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model._meta.app_label == Customer._meta.app_label or relation.many_to_many:
            continue
        if model._default_manager.filter(**{relation.field.name: customer.pk}).exists():
            held.append(str(model._meta.verbose_name_plural))
    return held


def _fill_profile(survivor: Customer, duplicate: Customer) -> list[str]:
    changed = []
    for name in FILLED_FROM_DUPLICATE:
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(survivor, name, getattr(duplicate, name))
            changed.append(name)
    if not survivor.situation and duplicate.situation:
        survivor.situation = duplicate.situation
        survivor.situation_updated_at = duplicate.situation_updated_at
        changed += ["situation", "situation_updated_at"]
    if survivor.assigned_associate_id is None and duplicate.assigned_associate_id:
        survivor.assigned_associate_id = duplicate.assigned_associate_id
        changed.append("assigned_associate")
    if duplicate.joined_at < survivor.joined_at:
        # A client since the earlier record: "eight years with us" stays true.
        survivor.joined_at = duplicate.joined_at
        survivor.joined_via = duplicate.joined_via
        changed += ["joined_at", "joined_via"]
    return changed


def customer_merge(
    *,
    survivor: Customer,
    duplicate: Customer,
    by: AbstractBaseUser,
    request=None,
    also_moved: dict[str, int] | None = None,
) -> Customer:
    """Merge `duplicate` into `survivor`, then delete the duplicate.

    Follow the survivor: orders (their lines with them), engagement events, notes,
    consent events (one history, ordered by time: the current consent is derived from it
    as always, so the latest answer on each channel wins), messages, contacts,
    selections and reasons. The survivor wins every conflict: its profile fields, its
    size in a category, its preference for a value, its contact preferences (the topics
    either record declined stay declined), its open reason of a kind and source (the
    duplicate's closes as resolved). The duplicate's recommendations are dropped; the
    survivor's totals are recomputed at once, its reasons and suggestions by tasks after
    commit. Audited on both ids.

    Refused (ApplicationError): the same client twice, an erased client, different
    stores unless `by` is a superuser, anyone but a manager of the store, and a
    duplicate that other apps still point to (call `clienteling.privacy.customer_merge`).
    `also_moved` are the counts of those other apps' rows, for the audit events.
    """
    customer_merge_check(survivor=survivor, duplicate=duplicate, by=by)
    with transaction.atomic():
        # Both rows locked, in id order: two merges crossing each other cannot deadlock.
        locked = {
            customer.pk: customer
            for customer in Customer.objects.select_for_update()
            .filter(pk__in=[survivor.pk, duplicate.pk])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise ApplicationError("One of the two clients is no longer on file.")
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        customer_merge_check(survivor=survivor, duplicate=duplicate, by=by)
        # One client fewer in the duplicate's associate's book (unless the survivor, who
        # had nobody, joins it instead).
        book_size_forget(duplicate.assigned_associate_id)
        held = _held_elsewhere(duplicate)
        if held:
            raise ApplicationError(
                f"The duplicate still has {', '.join(held)}: merge through "
                "clienteling.privacy.customer_merge, which moves them first."
            )

        moved: dict[str, int] = dict(also_moved or {})
        for label, model in [
            ("orders", Order),
            ("engagement_events", EngagementEvent),
            ("notes", Note),
            ("consent_events", ConsentEvent),
            ("messages", Message),
            ("contacts", Contact),
            ("selections", Selection),
        ]:
            moved[label] = model.objects.filter(customer=duplicate).update(customer=survivor)

        moved["sizes"] = (
            Size.objects.filter(customer=duplicate)
            .exclude(category_id__in=Size.objects.filter(customer=survivor).values("category_id"))
            .update(customer=survivor)
        )
        same_preference = Preference.objects.filter(
            customer=survivor, kind=OuterRef("kind"), value=OuterRef("value")
        )
        moved["preferences"] = (
            Preference.objects.filter(customer=duplicate)
            .exclude(Exists(same_preference))
            .update(customer=survivor)
        )

        theirs = ContactPreferences.objects.filter(customer=duplicate).first()
        ours = ContactPreferences.objects.filter(customer=survivor).first()
        if theirs is not None and ours is None:
            ContactPreferences.objects.filter(customer=duplicate).update(customer=survivor)
        elif theirs is not None:
            declined = sorted(set(ours.topics_declined) | set(theirs.topics_declined))
            if declined != sorted(ours.topics_declined):
                ContactPreferences.objects.filter(customer=survivor).update(
                    topics_declined=declined
                )

        # One open reason per kind and source: the survivor's stays, the duplicate's closes.
        survivor_open = Reason.objects.filter(
            customer=survivor,
            state__in=OPEN_STATES,
            kind=OuterRef("kind"),
            source_key=OuterRef("source_key"),
        )
        Reason.objects.filter(customer=duplicate, state__in=OPEN_STATES).filter(
            Exists(survivor_open)
        ).update(
            state=Reason.State.RESOLVED,
            closed_note="Merged into the client's other record, which has the same reason.",
            closed_at=timezone.now(),
            snoozed_until=None,
        )
        moved["reasons"] = Reason.objects.filter(customer=duplicate).update(customer=survivor)
        # Points follow (a till's id the survivor already used stays with the duplicate's
        # row, deleted with it); offers follow, but one open per offer and client.
        moved["points_movements"] = (
            PointsMovement.objects.filter(customer=duplicate)
            .exclude(
                external_id__in=PointsMovement.objects.filter(
                    customer=survivor, external_id__isnull=False
                ).values("external_id")
            )
            .update(customer=survivor)
        )
        moved["client_offers"] = (
            ClientOffer.objects.filter(customer=duplicate)
            .exclude(
                status=ClientOffer.Status.OPEN,
                offer_id__in=ClientOffer.objects.filter(
                    customer=survivor, status=ClientOffer.Status.OPEN
                ).values("offer_id"),
            )
            .update(customer=survivor)
        )
        Recommendation.objects.filter(customer=duplicate).delete()

        # External ids are unique: the duplicate lets go of them before the survivor takes them.
        taken = {
            name: getattr(duplicate, name)
            for name in EXTERNAL_IDS
            if getattr(duplicate, name) and not getattr(survivor, name)
        }
        Customer.objects.filter(pk=duplicate.pk).update(
            pos_customer_id=None, ecommerce_customer_id=None
        )
        changed = _fill_profile(survivor, duplicate)
        for name, value in taken.items():
            setattr(survivor, name, value)
            changed.append(name)
        if changed:
            survivor.save(update_fields=[*changed, "updated_at"])

        detail = {"merged": duplicate.pk, "survivor": survivor.pk, "moved": moved}
        for customer in (survivor, duplicate):
            privacy_audit(
                action=AuditEvent.Action.MERGE,
                customer=customer,
                customer_ref=customer.pk,
                by=by,
                request=request,
                detail=detail,
            )
        duplicate.delete()
        customer_refresh_totals(customer_ids=[survivor.pk])
        reasons_refresh_after_commit([survivor.pk], recommendations=True)
    survivor.refresh_from_db()
    return survivor
