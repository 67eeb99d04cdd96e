"""A client's data rights, the appointments half: what we hold about their time with us
(export), removing it (erasure), and moving it when two records of them merge.
`clienteling.privacy` composes these with the customers half.

The calendar belongs to the store: erased clients' appointments, reservations and visits
keep their times, rooms and stylists, and lose the client and every word about them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
from typing import Any

from django.db import models, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from customers.models import Customer
from customers.services.privacy import Erasure, export_row, product_ref, staff_ref

from ..models import (
    Appointment,
    Chapter,
    MakeoverMedia,
    MakeoverSession,
    ProductUse,
    Reservation,
    ShareLink,
    StagedItem,
    StylingEnrollment,
    Visit,
    new_manage_token,
)

logger = logging.getLogger(__name__)


def customer_export_appointments(*, customer: Customer) -> dict[str, Any]:
    """Appointments, fitting-room reservations and visits, personal styling and makeovers
    (chapters, products, samples, and the photos' and videos' metadata, not their bytes).

    Secrets that open pages stay out: the appointment's manage link, share-link digests,
    media tokens and file names. About ten queries whatever the history.
    """
    appointments = (
        Appointment.objects.filter(customer=customer)
        .select_related("kind", "store", "stylist__user", "room")
        .order_by("starts_at", "pk")
    )
    reservations = (
        Reservation.objects.filter(customer=customer)
        .select_related("room")
        .prefetch_related(
            models.Prefetch("staged_items", queryset=StagedItem.objects.select_related("product"))
        )
        .order_by("starts_at", "pk")
    )
    visits = (
        Visit.objects.filter(customer=customer)
        .select_related("room")
        .prefetch_related("pages")
        .order_by("started_at", "pk")
    )
    enrollments = (
        StylingEnrollment.objects.filter(customer=customer)
        .select_related("stylist__user")
        .order_by("started_at", "pk")
    )
    makeovers = (
        MakeoverSession.objects.filter(customer=customer)
        .select_related("stylist__user")
        .prefetch_related(
            models.Prefetch(
                "chapters",
                queryset=Chapter.objects.prefetch_related(
                    models.Prefetch(
                        "products", queryset=ProductUse.objects.select_related("product")
                    )
                ),
            ),
            "samples__product",
            "media",
            "share_links",
        )
        .order_by("created_at", "pk")
    )
    return {
        "appointments": [
            {
                **export_row(appointment, exclude=["manage_token"]),
                "kind": appointment.kind.name,
                "store": appointment.store.code,
                "stylist": staff_ref(appointment.stylist),
                "room": appointment.room.name if appointment.room else None,
            }
            for appointment in appointments
        ],
        "fitting_room_reservations": [
            {
                **export_row(reservation),
                "room": reservation.room.name,
                "staged_items": [
                    {**export_row(item), "product": product_ref(item.product)}
                    for item in reservation.staged_items.all()
                ],
            }
            for reservation in reservations
        ],
        "fitting_room_visits": [
            {
                **export_row(visit),
                "room": visit.room.name,
                "pages": [export_row(page) for page in visit.pages.all()],
            }
            for visit in visits
        ],
        "styling_enrollments": [
            {**export_row(enrollment), "stylist": staff_ref(enrollment.stylist)}
            for enrollment in enrollments
        ],
        "makeovers": [
            {
                **export_row(session),
                "stylist": staff_ref(session.stylist),
                "chapters": [
                    {
                        **export_row(chapter),
                        "title": chapter.title,
                        "products": [
                            {**export_row(use), "product": product_ref(use.product)}
                            for use in chapter.products.all()
                        ],
                    }
                    for chapter in session.chapters.all()
                ],
                "samples": [
                    {**export_row(sample), "product": product_ref(sample.product)}
                    for sample in session.samples.all()
                ],
                "media": [
                    {
                        **export_row(media, exclude=["token", "file", "thumbnail"]),
                        "has_file": bool(media.file),
                    }
                    for media in session.media.all()
                ],
                "share_links": [
                    export_row(link, exclude=["token_digest"]) for link in session.share_links.all()
                ],
            }
            for session in makeovers
        ],
    }


def customer_erase_appointments(*, customer: Customer) -> Erasure:
    """Detach the client from the calendar and remove what describes them.

    Appointments keep their time, kind, stylist and room; they lose the client, the
    address, the video link, the notes and the cancel reason, and get a new manage token
    (the client's old link opens nothing). Reservations and visits keep their room and
    time and lose the client (and the reservation's note). Personal styling enrolments
    are deleted. Makeovers lose the client, title, notes and summary, their chapters'
    steps and products' notes (products, shades and samples stay, as anonymous figures);
    their photos and videos are deleted, the files once the transaction commits (the
    caller schedules `erasure.files`), and their share links are revoked.

    Runs inside the caller's transaction; repeating it finds nothing more.
    """
    erasure = Erasure()
    now = timezone.now()
    with transaction.atomic():
        appointments = list(Appointment.objects.filter(customer=customer).only("pk"))
        erasure.touch(Appointment, [appointment.pk for appointment in appointments])
        for appointment in appointments:
            appointment.manage_token = new_manage_token()
        Appointment.objects.bulk_update(appointments, ["manage_token"], batch_size=500)
        erasure.counts["appointments_kept"] = Appointment.objects.filter(
            pk__in=[appointment.pk for appointment in appointments]
        ).update(
            customer=None, address="", video_link="", notes="", cancel_reason="", updated_at=now
        )

        reservations = Reservation.objects.filter(customer=customer)
        erasure.touch(Reservation, reservations.values_list("pk", flat=True))
        erasure.counts["reservations_kept"] = reservations.update(customer=None, note="")
        visits = Visit.objects.filter(customer=customer)
        erasure.touch(Visit, visits.values_list("pk", flat=True))
        erasure.counts["visits_kept"] = visits.update(customer=None)

        enrollments = StylingEnrollment.objects.filter(customer=customer)
        erasure.touch(StylingEnrollment, enrollments.values_list("pk", flat=True))
        erasure.counts["styling_enrollments"] = enrollments.delete()[0]

        session_ids = erasure.touch(
            MakeoverSession,
            MakeoverSession.objects.filter(customer=customer).values_list("pk", flat=True),
        )
        media = MakeoverMedia.objects.filter(session_id__in=session_ids)
        for file_name, thumbnail_name in media.values_list("file", "thumbnail"):
            erasure.files += [name for name in (file_name, thumbnail_name) if name]
        erasure.touch(MakeoverMedia, media.values_list("pk", flat=True))
        erasure.counts["makeover_media"] = media.delete()[0]
        chapters = Chapter.objects.filter(session_id__in=session_ids)
        erasure.touch(Chapter, chapters.values_list("pk", flat=True))
        chapters.update(
            steps="",
            # "Other" needs a title of its own (a constraint): a neutral one.
            custom_title=Case(
                When(area=Chapter.Area.CUSTOM, then=Value(Chapter.Area.CUSTOM.label)),
                default=Value(""),
            ),
        )
        ProductUse.objects.filter(chapter__session_id__in=session_ids).update(note="")
        erasure.counts["share_links_revoked"] = ShareLink.objects.filter(
            session_id__in=session_ids, revoked_at__isnull=True
        ).update(revoked_at=now)
        erasure.counts["makeovers_kept"] = MakeoverSession.objects.filter(
            pk__in=session_ids
        ).update(customer=None, title="", private_notes="", summary="", updated_at=now)
    return erasure


def customer_merge_appointments(*, survivor: Customer, duplicate: Customer) -> dict[str, int]:
    """The duplicate's appointments, reservations, visits, makeovers and personal styling
    follow the survivor. One active enrolment per client: when both have one, the
    survivor's goes on and the duplicate's ends now. Runs inside the merge's transaction."""
    now = timezone.now()
    with transaction.atomic():
        if StylingEnrollment.objects.filter(customer=survivor, ended_at__isnull=True).exists():
            StylingEnrollment.objects.filter(customer=duplicate, ended_at__isnull=True).update(
                ended_at=now
            )
        return {
            "appointments": Appointment.objects.filter(customer=duplicate).update(
                customer=survivor, updated_at=now
            ),
            "reservations": Reservation.objects.filter(customer=duplicate).update(
                customer=survivor
            ),
            "visits": Visit.objects.filter(customer=duplicate).update(customer=survivor),
            "makeovers": MakeoverSession.objects.filter(customer=duplicate).update(
                customer=survivor, updated_at=now
            ),
            "styling_enrollments": StylingEnrollment.objects.filter(customer=duplicate).update(
                customer=survivor
            ),
        }


def makeover_files_delete(names: list[str]) -> int:
    """Delete private makeover files (after the erasure commits), then the session
    folders they leave empty. A file that cannot be deleted is logged, not raised: the
    rows are already gone. Returns how many files were deleted."""
    storage = MakeoverMedia._meta.get_field("file").storage
    deleted = 0
    folders = set()
    for name in names:
        try:
            if storage.exists(name):
                storage.delete(name)
                deleted += 1
        except OSError:
            logger.warning("could not delete makeover file %s", name, exc_info=True)
        folder = posixpath.dirname(name)
        if folder.startswith("makeovers/"):  # one session's folder, never the root
            folders.add(folder)
    for folder in sorted(folders):
        try:
            path = storage.path(folder)
        except NotImplementedError:  # object storage has no folders to tidy
            break
        with contextlib.suppress(OSError):  # not empty, or already gone
            os.rmdir(path)
    return deleted
