"""Makeover sessions: a stylist's notes of a makeover, chapter by chapter, with the
products used, the samples given and the photos; completed once, then shared with the
client through a personal link sent by the outbox.

Which appointments: only those whose kind says `is_makeover`. The kind is where a
manager decides that stylists write makeover notes for it; opening notes on any try-on
would make that switch meaningless and fill client pages with empty sessions.

Replenishment: when a session is completed, each consumable used or given as a sample
raises a replenishment reason (`customers.services.replenishment_from_use`) with a
stable source key per row (`makeover:<session>:use:<id>`, `makeover:<session>:sample:<id>`),
so completing twice, or adding a product after completion, raises each reason once.

Files: uploads are checked and cleaned first (`appointments.media`): a refused file
saves nothing. Paths are fixed by the media's token, so re-processing overwrites.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageOps

from clienteling.catalog.models import Product
from clienteling.core.errors import ApplicationError
from clienteling.core.http import absolute_url
from clienteling.stores.models import StaffMember
from customers.selectors import reasons_source_keys
from customers.services import message_queue, message_wording, replenishment_from_use
from customers.services.offers import offers_open_after_makeover
from customers.services.reasons import Candidate, reasons_open

from .. import media as uploads
from ..models import (
    Appointment,
    Chapter,
    MakeoverMedia,
    MakeoverSession,
    ProductUse,
    Sample,
    ShareLink,
    new_share_token,
    share_token_digest,
)

logger = logging.getLogger(__name__)

SHARE_PURPOSE = "makeover_summary"
MAX_QUANTITY = 20
MAX_STEPS_CHARS = 4000
# Appointments that did not take place get no makeover notes.
NOT_HELD = (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW)

DEFAULT_SHARE_WORDS = (
    "Hi {{ first_name }}, here are the notes from your makeover with {{ associate }} at "
    "{{ store }}: each step and product, to do it again at home. {{ link }}"
)


# --- Helpers -------------------------------------------------------------------------------


def _validated(instance, *, exclude: Iterable[str] = ()) -> None:
    """`full_clean()`, its first complaint turned into an ApplicationError on its field."""
    try:
        instance.full_clean(exclude=list(exclude) or None)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ApplicationError(
            messages[0], field=None if field == NON_FIELD_ERRORS else field
        ) from error


def _lock_session(session: MakeoverSession) -> None:
    """Serialise writes that renumber or count a session's rows (positions, completion)."""
    MakeoverSession.objects.select_for_update().filter(pk=session.pk).first()


def _quantity(value: int) -> int:
    if not 1 <= int(value) <= MAX_QUANTITY:
        raise ApplicationError(f"Give a quantity from 1 to {MAX_QUANTITY}.", field="quantity")
    return int(value)


def _check_chapter(session: MakeoverSession, chapter: Chapter | None) -> None:
    if chapter is not None and chapter.session_id != session.pk:
        raise ApplicationError("This chapter belongs to another makeover.", field="chapter")


def product_lookup(text: str) -> Product | None:
    """A catalog product by its SKU (any case) or, for digits no SKU matches, its id."""
    text = (text or "").strip()
    if not text:
        return None
    product = Product.objects.filter(sku__iexact=text).first()
    if product is None and text.isdigit():
        product = Product.objects.filter(pk=int(text)).first()
    return product


def used_on(session: MakeoverSession) -> datetime.date:
    """The day of the makeover, in its store's time."""
    appointment = session.appointment
    return timezone.localtime(appointment.starts_at, appointment.store.zone).date()


# --- The session -------------------------------------------------------------------------


def makeover_start(*, appointment: Appointment, by: StaffMember | None = None) -> MakeoverSession:
    """The appointment's makeover session, made on first call (a double tap makes one).

    Only appointments of a makeover kind that took place or are still expected, and
    whose client is on file; `by`, when given, must work in the appointment's store.
    """
    if by is not None and by.store_id != appointment.store_id:
        raise ApplicationError("Only staff of the appointment's store write its makeover.")
    existing = MakeoverSession.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if not appointment.kind.is_makeover:
        raise ApplicationError(
            f"{appointment.kind.name} is not a makeover: it takes no makeover notes."
        )
    if appointment.status in NOT_HELD:
        raise ApplicationError(
            f"This appointment is {appointment.get_status_display().lower()}: "
            "it takes no makeover notes."
        )
    if appointment.customer_id is None:
        raise ApplicationError("This client is no longer on file.")
    with transaction.atomic():
        # get_or_create: two taps at once meet the one-to-one constraint and read the winner.
        session, _ = MakeoverSession.objects.get_or_create(
            appointment=appointment,
            defaults={"customer_id": appointment.customer_id, "stylist_id": appointment.stylist_id},
        )
    return session


def makeover_update(
    *, session: MakeoverSession, title: str, private_notes: str, summary: str
) -> MakeoverSession:
    """The session's title, the staff's private notes and the client's summary."""
    session.title = title.strip()
    session.private_notes = private_notes.strip()
    session.summary = summary.strip()
    _validated(session, exclude=["appointment", "customer", "stylist"])
    with transaction.atomic():
        session.save(update_fields=["title", "private_notes", "summary", "updated_at"])
    return session


def makeover_complete(*, session: MakeoverSession, now: datetime.datetime | None = None) -> bool:
    """Mark the makeover complete (once: the first time is kept) and raise the
    replenishment reasons of its consumables. True the first time.

    A conditional UPDATE: two taps at once complete it once. The reasons are raised on
    every call, which is harmless (one reason per source key) and heals a partial run.
    """
    now = now or timezone.now()
    with transaction.atomic():
        completed = MakeoverSession.objects.filter(pk=session.pk, completed_at__isnull=True).update(
            completed_at=now, updated_at=now
        )
        session.refresh_from_db(fields=["completed_at", "updated_at"])
        _raise_replenishment(
            session,
            uses=ProductUse.objects.filter(chapter__session=session),
            samples=Sample.objects.filter(session=session),
        )
        if completed and session.customer_id:
            # A makeover is an offer's trigger: customers decides who gets which.
            offers_open_after_makeover(
                customer_id=session.customer_id, on=timezone.localtime(now).date()
            )
    return bool(completed)


def _raise_replenishment(
    session: MakeoverSession, *, uses: Iterable[ProductUse] = (), samples: Iterable[Sample] = ()
) -> int:
    """Replenishment reasons for the consumables among these rows; how many rows counted."""
    if session.customer_id is None or session.completed_at is None:
        return 0
    customer = session.customer
    day = used_on(session)
    raised = 0
    rows = [(use, "use", "was made up with") for use in _consumables(uses)]
    rows += [(sample, "sample", "took home a sample of") for sample in _consumables(samples)]
    for row, what, how in rows:
        replenishment_from_use(
            customer=customer,
            product=row.product,
            used_on=day,
            quantity=row.quantity,
            source_key=f"makeover:{session.pk}:{what}:{row.pk}",
            how=how,
        )
        raised += 1
    return raised


def _consumables(rows):
    if hasattr(rows, "select_related"):
        rows = rows.select_related("product").filter(product__replenish_after_days__isnull=False)
    return [row for row in rows if row.product.replenish_after_days]


# --- Chapters ------------------------------------------------------------------------------


def _chapter_fields(area: str, custom_title: str, steps: str) -> dict:
    custom_title = custom_title.strip()
    if area == Chapter.Area.CUSTOM and not custom_title:
        raise ApplicationError("Give the chapter a title.", field="custom_title")
    steps = "\n".join(line.strip() for line in steps.strip().splitlines())
    if len(steps) > MAX_STEPS_CHARS:
        raise ApplicationError(f"Keep the steps under {MAX_STEPS_CHARS} characters.", field="steps")
    return {
        "area": area,
        "custom_title": custom_title if area == Chapter.Area.CUSTOM else "",
        "steps": steps,
    }


def chapter_add(
    *, session: MakeoverSession, area: str, custom_title: str = "", steps: str = ""
) -> Chapter:
    """A new chapter at the end of the session."""
    fields = _chapter_fields(area, custom_title, steps)
    chapter = Chapter(session=session, **fields)
    _validated(chapter, exclude=["session", "position"])
    with transaction.atomic():
        _lock_session(session)
        last = Chapter.objects.filter(session=session).aggregate(last=Max("position"))["last"]
        chapter.position = 0 if last is None else last + 1
        chapter.save()
    return chapter


def chapter_update(
    *, chapter: Chapter, area: str, custom_title: str = "", steps: str = ""
) -> Chapter:
    for name, value in _chapter_fields(area, custom_title, steps).items():
        setattr(chapter, name, value)
    _validated(chapter, exclude=["session", "position"])
    with transaction.atomic():
        chapter.save(update_fields=["area", "custom_title", "steps"])
    return chapter


def chapter_remove(*, chapter: Chapter) -> None:
    """Remove a chapter and its products; its photos stay with the session, unfiled."""
    with transaction.atomic():
        chapter.delete()


def chapter_move(*, chapter: Chapter, direction: str) -> bool:
    """Move a chapter one place up or down; False when it is already first or last.

    The session is locked, and positions are renumbered 0..n-1 on the way, so two quick
    moves never leave two chapters at the same place.
    """
    if direction not in ("up", "down"):
        raise ApplicationError("Move a chapter up or down.", field="direction")
    with transaction.atomic():
        _lock_session(chapter.session)
        chapters = list(Chapter.objects.filter(session_id=chapter.session_id))
        index = next(i for i, row in enumerate(chapters) if row.pk == chapter.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(chapters):
            return False
        chapters[index], chapters[other] = chapters[other], chapters[index]
        changed = []
        for position, row in enumerate(chapters):
            if row.position != position:
                row.position = position
                changed.append(row)
        Chapter.objects.bulk_update(changed, ["position"])
    chapter.position = next(row.position for row in chapters if row.pk == chapter.pk)
    return True


# --- Products used and samples --------------------------------------------------------------


def product_use_add(
    *,
    chapter: Chapter,
    product: Product,
    shade: str = "",
    quantity: int = 1,
    note: str = "",
) -> ProductUse:
    """A product used in a chapter (its shade defaults to the catalog's). Added to a
    completed session, it raises its replenishment reason at once."""
    use = ProductUse(
        chapter=chapter,
        product=product,
        shade=(shade.strip() or product.shade)[:60],
        quantity=_quantity(quantity),
        note=note.strip(),
    )
    _validated(use, exclude=["chapter", "product"])
    with transaction.atomic():
        use.save()
        session = chapter.session
        if session.completed_at is not None:
            _raise_replenishment(session, uses=[use])
    return use


def product_use_remove(*, product_use: ProductUse) -> None:
    with transaction.atomic():
        product_use.delete()


def sample_add(
    *, session: MakeoverSession, product: Product, shade: str = "", quantity: int = 1
) -> Sample:
    """A sample the client took home (raises its reason at once on a completed session)."""
    sample = Sample(
        session=session,
        product=product,
        shade=(shade.strip() or product.shade)[:60],
        quantity=_quantity(quantity),
    )
    _validated(sample, exclude=["session", "product"])
    with transaction.atomic():
        sample.save()
        if session.completed_at is not None:
            _raise_replenishment(session, samples=[sample])
    return sample


def sample_remove(*, sample: Sample) -> None:
    with transaction.atomic():
        sample.delete()


# --- Photos, videos and links ----------------------------------------------------------------


def _store_file(media: MakeoverMedia, field: str, filename: str, content: File) -> str:
    """Write a file at its fixed path (the media's token), replacing any earlier one."""
    file_field = getattr(media, field)
    name = file_field.field.generate_filename(media, filename)
    storage = file_field.storage
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, content)
    file_field.name = saved
    return saved


def _delete_files(names: Iterable[str]) -> None:
    storage = MakeoverMedia._meta.get_field("file").storage
    for name in names:
        if name:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("could not delete makeover file %s", name, exc_info=True)


def _new_media(
    session: MakeoverSession,
    chapter: Chapter | None,
    kind: str,
    *,
    caption: str,
    by: StaffMember | None,
    **fields,
) -> MakeoverMedia:
    _check_chapter(session, chapter)
    media = MakeoverMedia(
        session=session,
        chapter=chapter,
        kind=kind,
        caption=caption.strip()[:150],
        uploaded_by=by,
        **fields,
    )
    _validated(media, exclude=["session", "chapter", "uploaded_by", "file", "thumbnail"])
    return media


def _save_with_files(media: MakeoverMedia, write) -> MakeoverMedia:
    """Save the row and its files together: if anything fails, the files written go too."""
    written: list[str] = []
    try:
        with transaction.atomic():
            media.save()
            written.extend(write(media))
            media.save(update_fields=["file", "thumbnail"])
    except Exception:
        _delete_files(written)
        raise
    return media


def makeover_photo_add(
    *,
    session: MakeoverSession,
    upload: UploadedFile,
    chapter: Chapter | None = None,
    caption: str = "",
    by: StaffMember | None = None,
) -> MakeoverMedia:
    """A photo, cleaned (EXIF and GPS gone, upright, at most 2048 px) with its thumbnail.

    Refused with a clear ApplicationError (nothing saved) when it is not an image, too
    big in bytes or in pixels (see `appointments.media`).
    """
    _check_chapter(session, chapter)
    photo = uploads.photo_clean(upload)
    media = _new_media(
        session,
        chapter,
        MakeoverMedia.Kind.PHOTO,
        caption=caption,
        by=by,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
    )

    def write(row: MakeoverMedia) -> list[str]:
        return [
            _store_file(row, "file", "photo.jpg", ContentFile(photo.content)),
            _store_file(row, "thumbnail", "thumb.jpg", ContentFile(photo.thumbnail)),
        ]

    return _save_with_files(media, write)


def makeover_media_thumbnail(*, media: MakeoverMedia) -> str:
    """(Re)make a photo's thumbnail from the stored photo, at its fixed path: a re-run
    overwrites the same file. Returns its name ("" for videos and links)."""
    if media.kind != MakeoverMedia.Kind.PHOTO or not media.file:
        return ""
    with media.file.open("rb") as source, Image.open(source) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail(uploads.THUMBNAIL_BOX)
        content = uploads._jpeg(image, uploads.THUMBNAIL_QUALITY)
    name = _store_file(media, "thumbnail", "thumb.jpg", ContentFile(content))
    MakeoverMedia.objects.filter(pk=media.pk).update(thumbnail=name)
    return name


def makeover_video_add(
    *,
    session: MakeoverSession,
    upload: UploadedFile,
    chapter: Chapter | None = None,
    caption: str = "",
    by: StaffMember | None = None,
) -> MakeoverMedia:
    """A short video, recognised by its first bytes (MP4, QuickTime or WebM), size-capped."""
    _check_chapter(session, chapter)
    video = uploads.video_check(upload)
    media = _new_media(
        session,
        chapter,
        MakeoverMedia.Kind.VIDEO,
        caption=caption,
        by=by,
        content_type=video.content_type,
    )

    def write(row: MakeoverMedia) -> list[str]:
        upload.seek(0)
        return [_store_file(row, "file", "video" + video.suffix, File(upload))]

    return _save_with_files(media, write)


_LINK_VALIDATOR = URLValidator(schemes=["https", "http"])


def makeover_link_add(
    *,
    session: MakeoverSession,
    url: str,
    chapter: Chapter | None = None,
    caption: str = "",
    by: StaffMember | None = None,
) -> MakeoverMedia:
    """A link to a video hosted elsewhere (a tutorial, the brand's page)."""
    url = url.strip()
    try:
        _LINK_VALIDATOR(url)
    except ValidationError as error:
        raise ApplicationError(
            "Give the full address of the video, starting with https://", field="link"
        ) from error
    media = _new_media(session, chapter, MakeoverMedia.Kind.LINK, caption=caption, by=by, link=url)
    with transaction.atomic():
        media.save()
    return media


def makeover_media_remove(*, media: MakeoverMedia) -> None:
    """Remove a photo, video or link; its files go once the removal is committed."""
    names = [media.file.name, media.thumbnail.name]
    with transaction.atomic():
        media.delete()
        transaction.on_commit(lambda: _delete_files(names))


def makeover_media_set_shared(*, media: MakeoverMedia, shared: bool) -> MakeoverMedia:
    """Show the photo on the client's page, or keep it for staff only."""
    with transaction.atomic():
        MakeoverMedia.objects.filter(pk=media.pk).update(shared=shared)
    media.shared = shared
    return media


# --- The client's link ------------------------------------------------------------------------


@dataclass(frozen=True)
class SentLink:
    link: ShareLink
    url: str
    message: Any  # the outbox row, as customers.services.message_queue returns it


def share_url(token: str) -> str:
    # Sent to the client in a message: on SITE_URL, never a request's host.
    return absolute_url(reverse("makeover-page", args=[token]))


def _share_words(session: MakeoverSession, url: str) -> str:
    """The message: a manager's active template for makeover summaries if any, else ours
    (the variables are listed in customers.services.wording.FAMILIES)."""
    appointment = session.appointment
    context = {
        "first_name": session.customer.first_name,
        "associate": session.stylist.user.first_name or session.stylist.display_name,
        "store": appointment.store.name,
        "link": url,
    }
    body = message_wording(
        purpose=SHARE_PURPOSE, channel=None, context=context, default=DEFAULT_SHARE_WORDS
    )
    if url not in body:  # a template that forgot the link would send nothing useful
        body = f"{body} {url}"
    return body


def share_link_send(
    *, session: MakeoverSession, by: StaffMember, now: datetime.datetime | None = None
) -> SentLink:
    """Make a personal link to the client's makeover page and send it through the outbox.

    One transaction: the link and the message are saved together, and if the policy
    refuses every channel (no consent, no address), neither is, and the error says why.
    Only a digest of the link's secret is stored; the secret itself is in the message.
    """
    customer = session.customer
    if customer is None:
        raise ApplicationError("This client is no longer on file: there is nobody to send it to.")
    now = now or timezone.now()
    token = new_share_token()
    url = share_url(token)
    with transaction.atomic():
        link = ShareLink.objects.create(
            session=session,
            token_digest=share_token_digest(token),
            expires_at=now + datetime.timedelta(days=settings.MAKEOVER_LINK_DAYS),
            created_by=by,
        )
        message = message_queue(
            customer=customer,
            channel=None,  # the client's preferred, consented channel
            body=_share_words(session, url),
            subject=f"Your makeover at {session.appointment.store.name}",
            dedupe_key=f"makeover:{session.pk}:share:{link.pk}",
            purpose=SHARE_PURPOSE,
            is_marketing=False,
            sender=by.user,
        )
        if message.is_suppressed:
            raise ApplicationError(f"The link can't be sent: {message.suppressed_reason}")
    return SentLink(link=link, url=url, message=message)


def share_link_revoke(*, link: ShareLink, now: datetime.datetime | None = None) -> bool:
    """Stop a link at once (the page and its photos refuse it). False if already revoked."""
    now = now or timezone.now()
    with transaction.atomic():
        revoked = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
    link.refresh_from_db(fields=["revoked_at"])
    return bool(revoked)


def share_link_opened(*, link: ShareLink, now: datetime.datetime | None = None) -> None:
    """Count an opening of the client's page (an UPDATE with F(): no lost counts)."""
    ShareLink.objects.filter(pk=link.pk).update(
        open_count=F("open_count") + 1, last_opened_at=now or timezone.now()
    )


def makeover_ask(
    *, session: MakeoverSession, product_use: ProductUse | None = None, sample: Sample | None = None
) -> bool:
    """The client asks their stylist for a product from their page: a client-initiated
    reason reaches their associate's Today (or the store's, when the associate is away).

    Once per product row: asking again opens nothing new. True when a reason opened.
    """
    item = product_use or sample
    if item is None or session.customer_id is None:
        return False
    customer = session.customer
    stylist = session.stylist.user.first_name or session.stylist.display_name
    shade = f" in {item.shade}" if item.shade else ""
    key = f"makeover:{session.pk}:ask:{'u' if product_use else 's'}{item.pk}"
    opened = reasons_open(
        kind="client_replied",
        candidates=[
            Candidate(
                customer_id=customer.pk,
                source_key=key,
                product_id=item.product_id,
                why=(
                    f"{customer.first_name} asked {stylist} for {item.product.name}{shade} "
                    "from their makeover page."
                ),
                due_on=timezone.localdate(),
            )
        ],
    )
    return bool(opened)


def makeover_asked_keys(session: MakeoverSession) -> set[str]:
    """The rows the client already asked for ("u12", "s3"): one query."""
    prefix = f"makeover:{session.pk}:ask:"
    if session.customer_id is None:
        return set()
    return {
        key.removeprefix(prefix)
        for key in reasons_source_keys(
            customer_id=session.customer_id,
            kind="client_replied",
            source_prefix=prefix,
        )
    }
