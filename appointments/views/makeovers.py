"""The stylist's makeover editor: chapters, products, samples, photos, notes, the client's link.

One page per appointment (`appointments/<pk>/makeover/`); every region htmx swaps is a
partial of `appointments/makeover.html`, and every form works as a plain POST that
redirects back to the page (errors re-render the page with the form's messages).

Access: signed-in staff of the appointment's store; anyone else gets a 404, whether or
not the appointment exists. Photos and videos are private files, served by
`makeover_media` after that same check (and by `makeover_pages` to the client's link).
"""

from __future__ import annotations

import os
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clienteling.core.errors import ApplicationError
from clienteling.core.http import HtmxHttpRequest, render_page
from clienteling.stores.access import staff_or_404
from clienteling.stores.refusals import get_visible_or_404
from customers.selectors import messages_by_dedupe_key
from customers.services import audit_record

from .. import services
from ..forms.makeovers import (
    ChapterForm,
    MoveForm,
    NotesForm,
    PhotoForm,
    ProductUseForm,
    SampleForm,
    SharedForm,
    VideoForm,
)
from ..models import Appointment, Chapter, MakeoverMedia, MakeoverSession, ProductUse, Sample

TEMPLATE = "appointments/makeover.html"
# The audit trail's action for opening a client's makeover. AuditEvent.action holds 12
# characters, so "makeover_view" (13) would not fit: "makeover" says the same.
AUDIT_ACTION = "makeover"
# The 404 for anyone who is not staff of a store (see `access.staff_or_404`).
NOT_STAFF = "Only staff of a store see its makeovers."


# --- Access -------------------------------------------------------------------------------


def _get_appointment_for_staff(request: HtmxHttpRequest, pk: int) -> Appointment:
    """An appointment of the signed-in person's store, with its makeover session (if any);
    404 for any other, not even confirming it exists."""
    staff = staff_or_404(request, message=NOT_STAFF)
    return get_visible_or_404(
        request,
        Appointment.objects.for_store(staff.store_id).select_related(
            "customer",
            "kind",
            "store",
            "stylist__user",
            "makeover__stylist__user",
            "makeover__customer",
        ),
        target="appointment",
        pk=pk,
    )


def _get_session_for_staff(request: HtmxHttpRequest, pk: int) -> MakeoverSession:
    appointment = _get_appointment_for_staff(request, pk)
    session = getattr(appointment, "makeover", None)
    if session is None:
        raise Http404("This appointment has no makeover notes yet.")
    session.appointment = appointment
    return session


def _get_chapter(session: MakeoverSession, chapter_pk: int) -> Chapter:
    chapter = get_object_or_404(Chapter, pk=chapter_pk, session=session)
    chapter.session = session
    return chapter


def _get_media(session: MakeoverSession, token: str) -> MakeoverMedia:
    return get_object_or_404(MakeoverMedia, session=session, token=token)


def _field_of(error: ApplicationError, form) -> str | None:
    return error.field if error.field in form.fields else None


# --- Rendering --------------------------------------------------------------------------------


def _editor_context(
    appointment: Appointment,
    *,
    forms: dict[tuple[int | None, str], object] | None = None,
    editing: int | None = None,
    **extra,
) -> dict:
    """Everything the editor shows, in a constant number of queries whatever the rows:
    the chapters, their products (with product and brand), the media, the samples and
    the links. `forms` replaces the blank form of a region ((chapter pk, name) keys,
    None for the session's own forms) with one carrying the user's input and errors."""
    forms = forms or {}
    session: MakeoverSession | None = getattr(appointment, "makeover", None)
    context = {"appointment": appointment, "session": session, "customer": appointment.customer}
    context.update(extra)
    if session is None:
        return context
    session.appointment = appointment
    chapters = list(
        session.chapters.prefetch_related(
            Prefetch("products", ProductUse.objects.select_related("product__brand"))
        )
    )
    media = list(session.media.all())
    last = len(chapters) - 1
    for index, chapter in enumerate(chapters):
        chapter.moves = [("up", "Move up")] if index else []
        if index < last:
            chapter.moves.append(("down", "Move down"))
        chapter.session = session
        chapter.media_items = [item for item in media if item.chapter_id == chapter.pk]
        chapter.editing = chapter.pk == editing or (chapter.pk, "chapter") in forms
        chapter.edit_form = forms.get((chapter.pk, "chapter")) or ChapterForm(
            initial={
                "area": chapter.area,
                "custom_title": chapter.custom_title,
                "steps": chapter.steps,
            },
            prefix=f"c{chapter.pk}",
        )
        chapter.product_form = forms.get((chapter.pk, "product")) or ProductUseForm(
            prefix=f"p{chapter.pk}"
        )
        chapter.photo_form = forms.get((chapter.pk, "photo")) or PhotoForm(prefix=f"f{chapter.pk}")
        chapter.video_form = forms.get((chapter.pk, "video")) or VideoForm(prefix=f"v{chapter.pk}")
    context.update(
        chapters=chapters,
        unfiled_media=[item for item in media if item.chapter_id is None],
        samples=list(session.samples.select_related("product__brand")),
        links=_links_with_messages(session),
        chapter_form=forms.get((None, "chapter")) or ChapterForm(prefix="new"),
        sample_form=forms.get((None, "sample")) or SampleForm(prefix="sample"),
        notes_form=forms.get((None, "notes")) or NotesForm.for_session(session, prefix="notes"),
    )
    return context


def _links_with_messages(session: MakeoverSession) -> list:
    """The session's links, each with the message that carried it (one query more)."""
    links = list(session.share_links.all())
    keys = {f"makeover:{session.pk}:share:{link.pk}": link for link in links}
    for link in links:
        link.usable = link.is_usable()
        link.message = None
    for key, message in messages_by_dedupe_key(list(keys)).items():
        keys[key].message = message
    return links


def _editor_url(appointment: Appointment, anchor: str = "") -> str:
    url = reverse("appointments:makeover", args=[appointment.pk])
    return f"{url}#{anchor}" if anchor else url


def _chapter_in(context: dict, chapter_pk: int) -> dict:
    context["chapter"] = next(row for row in context["chapters"] if row.pk == chapter_pk)
    return context


def _after(
    request: HtmxHttpRequest,
    appointment: Appointment,
    *,
    partial: str,
    ok: bool,
    anchor: str,
    message: str = "",
    chapter_pk: int | None = None,
    forms: dict | None = None,
    **extra,
) -> HttpResponse:
    """The answer to a POST: a redirect for a plain valid one, else the page (plain) or
    the region (htmx) re-rendered, with the form's messages when it was refused."""
    if ok and not request.htmx:
        if message:
            messages.success(request, message)
        return redirect(_editor_url(appointment, anchor))
    context = _editor_context(appointment, forms=None if ok else forms, notice=message, **extra)
    if chapter_pk is not None and any(row.pk == chapter_pk for row in context["chapters"]):
        _chapter_in(context, chapter_pk)
    elif partial == "chapter":
        partial = "chapters"  # the chapter is gone (removed meanwhile): its list instead
    # The notice shows in the region that answers, not in every region on the page.
    context["notice_for"] = chapter_pk if partial == "chapter" else partial
    return render_page(request, TEMPLATE, context, partial=partial)


def _audit_view(request: HtmxHttpRequest, session: MakeoverSession | None) -> None:
    """Opening a client's makeover is looking at their data: it goes in the audit trail."""
    if session is not None and session.customer_id:
        audit_record(
            request=request,
            action=AUDIT_ACTION,
            customer=session.customer,
            detail={"makeover": session.pk, "appointment": session.appointment_id},
        )


# --- The editor -------------------------------------------------------------------------------


@require_GET
@login_required
def makeover(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The makeover editor (GET creates nothing: without a session it offers to start one).

    Queries, whatever the rows: the session's user with their staff record, the appointment
    with its session, chapters, their products, media, samples, links, and the audit insert.
    """
    appointment = _get_appointment_for_staff(request, pk)
    editing = request.GET.get("edit", "")
    context = _editor_context(appointment, editing=int(editing) if editing.isdigit() else None)
    _audit_view(request, context["session"])
    response = render_page(request, TEMPLATE, context)
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
@login_required
def makeover_start(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    staff = staff_or_404(request, message=NOT_STAFF)
    appointment = _get_appointment_for_staff(request, pk)
    try:
        services.makeover_start(appointment=appointment, by=staff)
    except ApplicationError as error:
        messages.info(request, error.message)
    return redirect(_editor_url(appointment))


@require_POST
@login_required
def makeover_notes(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The title, the client's summary and the private notes."""
    session = _get_session_for_staff(request, pk)
    form = NotesForm(request.POST, prefix="notes")
    ok = form.is_valid()
    if ok:
        try:
            services.makeover_update(
                session=session,
                title=form.cleaned_data["title"],
                private_notes=form.cleaned_data["private_notes"],
                summary=form.cleaned_data["summary"],
            )
        except ApplicationError as error:
            form.add_error(_field_of(error, form), error.message)
            ok = False
    return _after(
        request,
        session.appointment,
        partial="notes",
        ok=ok,
        anchor="notes",
        message="Notes saved." if ok else "",
        forms={(None, "notes"): form},
    )


@require_POST
@login_required
def makeover_complete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Mark the makeover complete: its consumables raise replenishment reasons (once)."""
    session = _get_session_for_staff(request, pk)
    first = services.makeover_complete(session=session)
    message = "Makeover complete." if first else "This makeover was already complete."
    return _after(
        request, session.appointment, partial="sharing", ok=True, anchor="sharing", message=message
    )


@require_POST
@login_required
def makeover_share(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send the client a personal link to their makeover page, through the outbox."""
    staff = staff_or_404(request, message=NOT_STAFF)
    session = _get_session_for_staff(request, pk)
    try:
        sent = services.share_link_send(session=session, by=staff)
    except ApplicationError as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect(_editor_url(session.appointment, "sharing"))
        return _after(
            request,
            session.appointment,
            partial="sharing",
            ok=True,
            anchor="sharing",
            share_error=error.message,
        )
    channel = sent.message.get_channel_display().lower()
    when = " (after their quiet hours)" if sent.message.scheduled_for > timezone.now() else ""
    message = f"Sent to {session.customer.first_name} by {channel}{when}."
    return _after(
        request, session.appointment, partial="sharing", ok=True, anchor="sharing", message=message
    )


@require_POST
@login_required
def makeover_share_revoke(request: HtmxHttpRequest, pk: int, link_pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    link = get_object_or_404(session.share_links, pk=link_pk)
    revoked = services.share_link_revoke(link=link)
    message = "Link revoked: it no longer opens." if revoked else "This link was already revoked."
    return _after(
        request, session.appointment, partial="sharing", ok=True, anchor="sharing", message=message
    )


# --- Chapters ----------------------------------------------------------------------------------


@require_POST
@login_required
def chapter_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    form = ChapterForm(request.POST, prefix="new")
    ok = form.is_valid()
    chapter = None
    if ok:
        try:
            chapter = services.chapter_add(session=session, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(_field_of(error, form), error.message)
            ok = False
    return _after(
        request,
        session.appointment,
        partial="chapters",
        ok=ok,
        anchor=f"chapter-{chapter.pk}" if chapter else "new-chapter",
        message=f"{chapter.title} added." if chapter else "",
        forms={(None, "chapter"): form},
    )


@require_http_methods(["GET", "POST"])
@login_required
def chapter_detail(request: HtmxHttpRequest, pk: int, chapter_pk: int) -> HttpResponse:
    """GET: the chapter (with `?edit=1`, its form) — the region alone for htmx, else the
    whole editor. POST: save the chapter's area, title and steps."""
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    appointment = session.appointment
    if request.method == "GET":
        editing = chapter.pk if request.GET.get("edit") else None
        context = _chapter_in(_editor_context(appointment, editing=editing), chapter.pk)
        if not request.htmx:
            _audit_view(request, session)
        return render_page(request, TEMPLATE, context, partial="chapter")
    form = ChapterForm(request.POST, prefix=f"c{chapter.pk}")
    ok = form.is_valid()
    if ok:
        try:
            services.chapter_update(chapter=chapter, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(_field_of(error, form), error.message)
            ok = False
    return _after(
        request,
        appointment,
        partial="chapter",
        ok=ok,
        anchor=f"chapter-{chapter.pk}",
        message=f"{chapter.title} saved." if ok else "",
        chapter_pk=chapter.pk,
        forms={(chapter.pk, "chapter"): form},
    )


@require_POST
@login_required
def chapter_remove(request: HtmxHttpRequest, pk: int, chapter_pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    title = chapter.title
    services.chapter_remove(chapter=chapter)
    return _after(
        request,
        session.appointment,
        partial="chapters",
        ok=True,
        anchor="chapters",
        message=f"{title} removed.",
    )


@require_POST
@login_required
def chapter_move(request: HtmxHttpRequest, pk: int, chapter_pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.chapter_move(chapter=chapter, direction=form.cleaned_data["direction"])
    return _after(
        request, session.appointment, partial="chapters", ok=True, anchor=f"chapter-{chapter.pk}"
    )


# --- Products used, samples -----------------------------------------------------------------------


@require_POST
@login_required
def product_use_add(request: HtmxHttpRequest, pk: int, chapter_pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    form = ProductUseForm(request.POST, prefix=f"p{chapter.pk}")
    ok = form.is_valid()
    if ok:
        try:
            services.product_use_add(chapter=chapter, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(_field_of(error, form), error.message)
            ok = False
    return _after(
        request,
        session.appointment,
        partial="chapter",
        ok=ok,
        anchor=f"chapter-{chapter.pk}",
        message=f"{form.cleaned_data['product'].name} added." if ok else "",
        chapter_pk=chapter.pk,
        forms={(chapter.pk, "product"): form},
    )


@require_POST
@login_required
def product_use_remove(request: HtmxHttpRequest, pk: int, chapter_pk: int, use_pk: int):
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    use = get_object_or_404(ProductUse, pk=use_pk, chapter=chapter)
    services.product_use_remove(product_use=use)
    return _after(
        request,
        session.appointment,
        partial="chapter",
        ok=True,
        anchor=f"chapter-{chapter.pk}",
        chapter_pk=chapter.pk,
    )


@require_POST
@login_required
def sample_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    form = SampleForm(request.POST, prefix="sample")
    ok = form.is_valid()
    if ok:
        try:
            services.sample_add(session=session, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(_field_of(error, form), error.message)
            ok = False
    return _after(
        request,
        session.appointment,
        partial="samples",
        ok=ok,
        anchor="samples",
        message=f"Sample of {form.cleaned_data['product'].name} added." if ok else "",
        forms={(None, "sample"): form},
    )


@require_POST
@login_required
def sample_remove(request: HtmxHttpRequest, pk: int, sample_pk: int) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    sample = get_object_or_404(Sample, pk=sample_pk, session=session)
    services.sample_remove(sample=sample)
    return _after(request, session.appointment, partial="samples", ok=True, anchor="samples")


# --- Photos, videos, links -----------------------------------------------------------------------


@require_POST
@login_required
def photo_add(request: HtmxHttpRequest, pk: int, chapter_pk: int) -> HttpResponse:
    """A photo for a chapter, cleaned by the service (EXIF and GPS gone, upright)."""
    staff = staff_or_404(request, message=NOT_STAFF)
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    form = PhotoForm(request.POST, request.FILES, prefix=f"f{chapter.pk}")
    ok = form.is_valid()
    if ok:
        try:
            services.makeover_photo_add(
                session=session,
                chapter=chapter,
                upload=form.cleaned_data["photo"],
                caption=form.cleaned_data["caption"],
                by=staff,
            )
        except ApplicationError as error:
            form.add_error("photo", error.message)
            ok = False
    return _after(
        request,
        session.appointment,
        partial="chapter",
        ok=ok,
        anchor=f"chapter-{chapter.pk}",
        message="Photo added." if ok else "",
        chapter_pk=chapter.pk,
        forms={(chapter.pk, "photo"): form},
    )


@require_POST
@login_required
def video_add(request: HtmxHttpRequest, pk: int, chapter_pk: int) -> HttpResponse:
    """A short video file for a chapter, or a link to one."""
    staff = staff_or_404(request, message=NOT_STAFF)
    session = _get_session_for_staff(request, pk)
    chapter = _get_chapter(session, chapter_pk)
    form = VideoForm(request.POST, request.FILES, prefix=f"v{chapter.pk}")
    ok = form.is_valid()
    if ok:
        data = form.cleaned_data
        try:
            if data["video"]:
                services.makeover_video_add(
                    session=session,
                    chapter=chapter,
                    upload=data["video"],
                    caption=data["caption"],
                    by=staff,
                )
            else:
                services.makeover_link_add(
                    session=session,
                    chapter=chapter,
                    url=data["link"],
                    caption=data["caption"],
                    by=staff,
                )
        except ApplicationError as error:
            form.add_error(_field_of(error, form) or "video", error.message)
            ok = False
    return _after(
        request,
        session.appointment,
        partial="chapter",
        ok=ok,
        anchor=f"chapter-{chapter.pk}",
        message="Video added." if ok else "",
        chapter_pk=chapter.pk,
        forms={(chapter.pk, "video"): form},
    )


@require_POST
@login_required
def media_remove(request: HtmxHttpRequest, pk: int, token: str) -> HttpResponse:
    session = _get_session_for_staff(request, pk)
    item = _get_media(session, token)
    services.makeover_media_remove(media=item)
    return _after(
        request,
        session.appointment,
        partial="chapters",
        ok=True,
        anchor=f"chapter-{item.chapter_id}" if item.chapter_id else "chapters",
        message=f"{item.get_kind_display()} removed.",
    )


@require_POST
@login_required
def media_shared(request: HtmxHttpRequest, pk: int, token: str) -> HttpResponse:
    """Show a photo on the client's page, or keep it for staff only."""
    session = _get_session_for_staff(request, pk)
    item = _get_media(session, token)
    form = SharedForm(request.POST)
    if form.is_valid():
        services.makeover_media_set_shared(media=item, shared=form.cleaned_data["shared"])
    return _after(
        request,
        session.appointment,
        partial="chapters",
        ok=True,
        anchor=f"media-{item.token}",
    )


# --- Private files -----------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _LimitedReader:
    """Reads at most `length` bytes of an open file: the body of a 206 answer."""

    def __init__(self, handle, length: int) -> None:
        self.handle, self.remaining = handle, length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size < 0 else min(size, self.remaining)
        chunk = self.handle.read(size)
        self.remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self.handle.close()


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes one "bytes=a-b" range asks for, or None if unusable."""
    match = _RANGE.match(header.strip())
    if not match or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        return None
    return start, end


def media_file_response(request, item: MakeoverMedia, *, thumbnail: bool = False) -> HttpResponse:
    """A private photo or video, to someone already allowed to see it.

    Private to the browser (never a shared cache), revalidated each time (a revoked link
    stops at once), of the type we recorded, never sniffed. Videos answer byte ranges:
    Safari plays nothing without them.
    """
    field = item.thumbnail if thumbnail else item.file
    if item.kind == MakeoverMedia.Kind.LINK or not field:
        raise Http404("No such file.")
    content_type = "image/jpeg" if thumbnail else (item.content_type or "application/octet-stream")
    storage = field.storage
    try:
        size = storage.size(field.name)
        handle = storage.open(field.name, "rb")
    except OSError as error:
        raise Http404("No such file.") from error
    status, body, length = 200, handle, size
    requested = request.headers.get("Range", "")
    if requested and item.kind == MakeoverMedia.Kind.VIDEO and not thumbnail:
        span = _byte_range(requested, size)
        if span is None:
            handle.close()
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        handle.seek(span[0])
        length = span[1] - span[0] + 1
        status, body = 206, _LimitedReader(handle, length)
    response = FileResponse(
        body, content_type=content_type, status=status, filename=os.path.basename(field.name)
    )
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
    if item.kind == MakeoverMedia.Kind.VIDEO:
        response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_GET
@login_required
def media_file(request: HtmxHttpRequest, pk: int, token: str, thumbnail: bool = False):
    """A makeover's photo or video, for staff of the appointment's store."""
    session = _get_session_for_staff(request, pk)
    return media_file_response(request, _get_media(session, token), thumbnail=thumbnail)
