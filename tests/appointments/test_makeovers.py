"""Makeover services: sessions, chapters, products and samples, replenishment raised once,
uploads checked and cleaned, share links kept as digests and sent through the outbox."""

from __future__ import annotations

import datetime
import io
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import ExifTags, Image

from appointments import services
from appointments.models import (
    Chapter,
    MakeoverMedia,
    MakeoverSession,
    ProductUse,
    Sample,
    ShareLink,
    share_token_digest,
)
from clienteling.core.errors import ApplicationError
from customers.models import Message, Reason
from tests import factories
from tests.appointments import makeover_files as files

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(stylist):
    return files.makeover_appointment(stylist)


@pytest.fixture
def session(appointment, stylist):
    return services.makeover_start(appointment=appointment, by=stylist)


@pytest.fixture
def chapter(session):
    return services.chapter_add(session=session, area="eyes", steps="Prime\nBlend")


@pytest.fixture
def lipstick(db):
    """A consumable: one lasts about 90 days."""
    return factories.ProductFactory(
        sku="LIP-ROSE", name="Velvet lipstick", shade="Rosewood", replenish_after_days=90
    )


def _stored(item: MakeoverMedia, field: str = "file") -> Image.Image:
    with getattr(item, field).open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


# --- Sessions ---------------------------------------------------------------------------------


def test_start_makes_one_session_for_a_makeover_appointment(appointment, stylist):
    first = services.makeover_start(appointment=appointment, by=stylist)
    again = services.makeover_start(appointment=appointment, by=stylist)

    assert first == again
    assert MakeoverSession.objects.count() == 1
    assert (first.customer, first.stylist) == (appointment.customer, appointment.stylist)
    assert first.completed_at is None


def test_start_refuses_a_kind_that_is_not_a_makeover(stylist):
    try_on = factories.AppointmentFactory(stylist=stylist)  # "In-store try-on"
    with pytest.raises(ApplicationError, match="is not a makeover"):
        services.makeover_start(appointment=try_on, by=stylist)
    assert not MakeoverSession.objects.exists()


def test_start_refuses_a_cancelled_appointment_and_staff_of_another_store(
    stylist, other_store_associate
):
    cancelled = files.makeover_appointment(stylist, status="cancelled", cancelled_at=timezone.now())
    with pytest.raises(ApplicationError, match="cancelled"):
        services.makeover_start(appointment=cancelled, by=stylist)
    booked = files.makeover_appointment(
        stylist, starts_at=cancelled.starts_at + datetime.timedelta(hours=3)
    )
    with pytest.raises(ApplicationError, match="store"):
        services.makeover_start(appointment=booked, by=other_store_associate)
    assert not MakeoverSession.objects.exists()


def test_notes_and_summary_are_saved(session):
    services.makeover_update(
        session=session, title=" Evening look ", private_notes="Reacts to retinol", summary="Glow"
    )
    session.refresh_from_db()
    assert (session.title, session.private_notes, session.summary) == (
        "Evening look",
        "Reacts to retinol",
        "Glow",
    )


# --- Chapters ---------------------------------------------------------------------------------


def test_chapters_go_at_the_end_and_move_up_and_down(session):
    skin = services.chapter_add(session=session, area="skin")
    eyes = services.chapter_add(session=session, area="eyes", steps="  Prime \n\n Blend ")
    lips = services.chapter_add(session=session, area="custom", custom_title="Lashes")

    assert [c.title for c in session.chapters.all()] == ["Skin", "Eyes", "Lashes"]
    assert eyes.step_list == ["Prime", "Blend"]
    assert services.chapter_move(chapter=lips, direction="up") is True
    assert services.chapter_move(chapter=skin, direction="up") is False
    assert [c.title for c in session.chapters.all()] == ["Skin", "Lashes", "Eyes"]
    services.chapter_move(chapter=skin, direction="down")
    assert [c.title for c in session.chapters.all()] == ["Lashes", "Skin", "Eyes"]
    assert sorted(session.chapters.values_list("position", flat=True)) == [0, 1, 2]


def test_a_custom_chapter_needs_a_title_and_other_areas_drop_it(session):
    with pytest.raises(ApplicationError, match="Give the chapter a title") as caught:
        services.chapter_add(session=session, area="custom", custom_title="  ")
    assert caught.value.field == "custom_title"
    assert not Chapter.objects.exists()
    chapter = services.chapter_add(session=session, area="lips", custom_title="ignored")
    assert (chapter.custom_title, chapter.title) == ("", "Lips")


def test_removing_a_chapter_keeps_its_photos_unfiled(session, chapter):
    photo = services.makeover_photo_add(session=session, chapter=chapter, upload=files.photo())
    services.chapter_remove(chapter=chapter)
    photo.refresh_from_db()
    assert photo.chapter is None and photo.session == session


# --- Products used and samples -----------------------------------------------------------------


def test_a_product_is_found_by_sku_or_id_and_takes_the_catalog_shade(chapter, lipstick):
    assert services.product_lookup("lip-rose") == lipstick
    assert services.product_lookup(str(lipstick.pk)) == lipstick
    assert services.product_lookup("NOPE") is None

    use = services.product_use_add(chapter=chapter, product=lipstick)
    other = services.product_use_add(chapter=chapter, product=lipstick, shade="Coral", quantity=2)

    assert (use.shade, use.quantity, other.shade, other.quantity) == ("Rosewood", 1, "Coral", 2)


@pytest.mark.parametrize("quantity", [0, 21, -1])
def test_a_quantity_out_of_range_is_refused(chapter, session, lipstick, quantity):
    with pytest.raises(ApplicationError, match="quantity from 1 to 20"):
        services.product_use_add(chapter=chapter, product=lipstick, quantity=quantity)
    with pytest.raises(ApplicationError, match="quantity from 1 to 20"):
        services.sample_add(session=session, product=lipstick, quantity=quantity)
    assert not ProductUse.objects.exists() and not Sample.objects.exists()


def test_completing_raises_replenishment_reasons_once(session, chapter, lipstick):
    serum = factories.ProductFactory(name="Night serum", replenish_after_days=30)
    brush = factories.ProductFactory(name="Kabuki brush")  # does not run out
    use = services.product_use_add(chapter=chapter, product=lipstick)
    services.product_use_add(chapter=chapter, product=brush)
    sample = services.sample_add(session=session, product=serum)

    assert services.makeover_complete(session=session) is True
    completed_at = session.completed_at
    assert services.makeover_complete(session=session) is False

    session.refresh_from_db()
    assert session.completed_at == completed_at
    reasons = Reason.objects.filter(kind=Reason.Kind.REPLENISHMENT).order_by("source_key")
    assert [(r.source_key, r.product) for r in reasons] == [
        (f"makeover:{session.pk}:sample:{sample.pk}", serum),
        (f"makeover:{session.pk}:use:{use.pk}", lipstick),
    ]
    assert "Claire was made up with Velvet lipstick" in reasons[1].why
    assert "Claire took home a sample of Night serum" in reasons[0].why


def test_a_product_added_after_completion_raises_its_reason_at_once(session, chapter, lipstick):
    services.makeover_complete(session=session)
    assert not Reason.objects.exists()
    use = services.product_use_add(chapter=chapter, product=lipstick)
    services.makeover_complete(session=session)
    assert list(Reason.objects.values_list("source_key", flat=True)) == [
        f"makeover:{session.pk}:use:{use.pk}"
    ]


# --- Photos ------------------------------------------------------------------------------------


def test_a_photo_loses_its_exif_and_gps_and_is_turned_upright(session, chapter, stylist):
    upload = files.photo(files.jpeg_bytes((60, 40), orientation=6, gps=True))
    original = Image.open(io.BytesIO(upload.read()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the phone's GPS is there
    upload.seek(0)

    item = services.makeover_photo_add(
        session=session, chapter=chapter, upload=upload, caption="Before", by=stylist
    )

    stored = _stored(item)
    assert stored.format == "JPEG" and item.content_type == "image/jpeg"
    assert (item.width, item.height) == stored.size == (40, 60)  # turned upright
    red, blue = stored.getpixel((20, 5)), stored.getpixel((20, 55))
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]  # the left half is now on top
    assert dict(stored.getexif()) == {}
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in stored.info and "xmp" not in stored.info
    with item.file.open("rb") as handle:
        raw = handle.read()
    assert b"PhoneMaker" not in raw and b"Exif" not in raw
    assert (item.caption, item.uploaded_by, item.shared) == ("Before", stylist, True)


def test_a_png_with_transparency_is_stored_as_a_jpeg(session, chapter):
    item = services.makeover_photo_add(
        session=session,
        chapter=chapter,
        upload=files.photo(files.png_bytes(), name="screen.png", content_type="image/png"),
    )
    assert _stored(item).mode == "RGB" and item.file.name.endswith(".jpg")


def test_the_thumbnail_sits_at_a_path_fixed_by_the_token_and_a_rerun_overwrites_it(
    session, chapter
):
    item = services.makeover_photo_add(
        session=session, chapter=chapter, upload=files.photo(files.jpeg_bytes((1200, 900)))
    )
    folder = f"makeovers/{session.pk}"
    assert item.file.name == f"{folder}/{item.token}.jpg"
    assert item.thumbnail.name == f"{folder}/{item.token}-thumb.jpg"
    assert max(_stored(item, "thumbnail").size) == 480

    assert services.makeover_media_thumbnail(media=item) == item.thumbnail.name
    assert services.makeover_media_thumbnail(media=item) == f"{folder}/{item.token}-thumb.jpg"
    storage = item.file.storage
    assert sorted(os.listdir(storage.path(folder))) == sorted(
        [f"{item.token}.jpg", f"{item.token}-thumb.jpg"]
    )


def test_makeover_files_are_private(session, chapter):
    item = services.makeover_photo_add(session=session, chapter=chapter, upload=files.photo())
    storage = item.file.storage
    private_root = os.path.realpath(settings.PRIVATE_MEDIA_ROOT)
    assert os.path.realpath(storage.path(item.file.name)).startswith(private_root + os.sep)
    assert not private_root.startswith(os.path.realpath(settings.MEDIA_ROOT))
    with pytest.raises(ValueError, match="private"):
        item.file.url  # noqa: B018 (no URL leads to them, not even under MEDIA_URL)


def _bomb(monkeypatch):
    # Pillow's own guard (twice MAX_IMAGE_PIXELS) raises DecompressionBombError: lower it
    # so that a small picture trips it, as a real bomb would.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    return files.photo(files.jpeg_bytes((30, 30)))


BAD_PHOTOS = [
    (lambda mp, s: files.photo(b"just some text", name="notes.jpg"), "is not a photo we can read"),
    (lambda mp, s: files.photo(files.jpeg_bytes()[:200]), "is not a photo we can read"),
    (
        lambda mp, s: files.photo(files.mp4_bytes(), name="clip.jpg"),
        "is not a photo we can read",
    ),
    (lambda mp, s: files.photo(b"", name="empty.jpg"), "is empty"),
    (
        lambda mp, s: (
            setattr(s, "MAKEOVER_MAX_PIXELS", 1000) or files.photo(files.jpeg_bytes((50, 50)))
        ),
        "too many pixels: at most 0.001 megapixels",
    ),
    (lambda mp, s: _bomb(mp), "too many pixels"),
    (
        lambda mp, s: (
            setattr(s, "MAKEOVER_MAX_UPLOAD_BYTES", 2048)
            or files.photo(files.jpeg_bytes((800, 600)) + b"\0" * 4096)
        ),
        "the most we take is 2 kB",
    ),
]


@pytest.mark.parametrize(("make", "message"), BAD_PHOTOS)
def test_a_bad_photo_is_refused_with_a_clear_error_and_nothing_is_saved(
    session, chapter, settings, monkeypatch, make, message
):
    upload = make(monkeypatch, settings)
    with pytest.raises(ApplicationError, match=message) as caught:
        services.makeover_photo_add(session=session, chapter=chapter, upload=upload)
    assert caught.value.field == "photo"
    assert not MakeoverMedia.objects.exists()
    assert not os.path.exists(
        MakeoverMedia._meta.get_field("file").storage.path(f"makeovers/{session.pk}")
    )


# --- Videos and links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "suffix"),
    [
        (files.mp4_bytes(b"isom"), "video/mp4", ".mp4"),
        (files.mp4_bytes(b"qt  "), "video/quicktime", ".mov"),
        (files.webm_bytes(), "video/webm", ".webm"),
    ],
)
def test_a_video_is_recognised_by_its_first_bytes_not_its_name(
    session, chapter, data, content_type, suffix
):
    upload = files.video(data, name="whatever.txt", content_type="text/plain")
    item = services.makeover_video_add(session=session, chapter=chapter, upload=upload)
    assert (item.kind, item.content_type) == ("video", content_type)
    assert item.file.name == f"makeovers/{session.pk}/{item.token}{suffix}"
    with item.file.open("rb") as handle:
        assert handle.read() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a video at all", "is not a video we can play"),
        (files.mp4_bytes(b"heic"), "is not a video we can play"),  # an iPhone photo
        (files.mp4_bytes(b"M4A "), "is not a video we can play"),  # audio
        (files.jpeg_bytes(), "is not a video we can play"),
        (b"", "is empty"),
    ],
)
def test_a_file_that_is_not_a_video_is_refused(session, chapter, data, message):
    upload = files.video(data, name="clip.mp4", content_type="video/mp4")
    with pytest.raises(ApplicationError, match=message):
        services.makeover_video_add(session=session, chapter=chapter, upload=upload)
    assert not MakeoverMedia.objects.exists()


def test_a_video_too_big_is_refused(session, chapter, settings):
    settings.MAKEOVER_MAX_VIDEO_BYTES = 1024
    with pytest.raises(ApplicationError, match="the most we take is"):
        services.makeover_video_add(
            session=session, chapter=chapter, upload=files.video(files.mp4_bytes(size=4096))
        )
    assert not MakeoverMedia.objects.exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "not a link", "ftp://example.com/x.mp4"])
def test_a_link_must_be_a_web_address(session, chapter, url):
    with pytest.raises(ApplicationError, match="full address"):
        services.makeover_link_add(session=session, chapter=chapter, url=url)
    item = services.makeover_link_add(
        session=session, chapter=chapter, url="https://video.example.com/eyes"
    )
    assert (item.kind, item.link) == ("link", "https://video.example.com/eyes")


def test_removing_a_photo_deletes_its_files_once_committed(
    session, chapter, django_capture_on_commit_callbacks
):
    item = services.makeover_photo_add(session=session, chapter=chapter, upload=files.photo())
    storage = item.file.storage
    paths = [storage.path(item.file.name), storage.path(item.thumbnail.name)]
    with django_capture_on_commit_callbacks(execute=True):
        services.makeover_media_remove(media=item)
    assert not MakeoverMedia.objects.exists()
    assert not any(os.path.exists(path) for path in paths)


# --- Share links -----------------------------------------------------------------------------------


def test_sending_keeps_only_a_digest_and_queues_one_message(session, stylist):
    sent = services.share_link_send(session=session, by=stylist)

    token = sent.url.rstrip("/").rsplit("/", 1)[-1]
    link = ShareLink.objects.get()
    assert link.token_digest == share_token_digest(token) != token
    assert token not in str(ShareLink.objects.values().get())
    lasts = link.expires_at - link.created_at
    assert abs(lasts - datetime.timedelta(days=settings.MAKEOVER_LINK_DAYS)).total_seconds() < 5
    message = Message.objects.get()
    assert message.dedupe_key == f"makeover:{session.pk}:share:{link.pk}"
    assert (message.purpose, message.is_marketing, message.channel) == (
        "makeover_summary",
        False,
        "email",
    )
    assert sent.url in message.body and message.body.startswith("Hi Claire")
    assert message.sender == stylist.user
    assert sent.url == f"{settings.SITE_URL.rstrip('/')}/m/{token}/"


def test_sending_twice_makes_two_links_and_two_messages(session, stylist):
    services.share_link_send(session=session, by=stylist)
    services.share_link_send(session=session, by=stylist)
    assert ShareLink.objects.count() == Message.objects.count() == 2


def test_sending_to_a_client_without_consent_saves_nothing_and_says_why(stylist):
    customer = factories.CustomerFactory(first_name="Nina", home_store=stylist.store)
    appointment = factories.AppointmentFactory(
        stylist=stylist, customer=customer, kind=factories.MakeoverKindFactory()
    )
    session = services.makeover_start(appointment=appointment, by=stylist)
    with pytest.raises(ApplicationError, match="The link can't be sent: Never agreed to email"):
        services.share_link_send(session=session, by=stylist)
    assert not ShareLink.objects.exists() and not Message.objects.exists()


def test_revoking_stops_a_link_once(session):
    link = factories.ShareLinkFactory(session=session)
    assert link.is_usable()
    assert services.share_link_revoke(link=link) is True
    assert services.share_link_revoke(link=link) is False
    assert not link.is_usable() and not ShareLink.objects.usable().exists()


def test_asking_for_a_product_opens_one_client_reason(session, chapter, lipstick):
    use = services.product_use_add(chapter=chapter, product=lipstick)

    assert services.makeover_ask(session=session, product_use=use) is True
    assert services.makeover_ask(session=session, product_use=use) is False

    reason = Reason.objects.get()
    assert (reason.kind, reason.product, reason.customer) == (
        Reason.Kind.CLIENT_REPLIED,
        lipstick,
        session.customer,
    )
    assert (
        reason.why == "Claire asked Sofia for Velvet lipstick in Rosewood from their makeover page."
    )
    assert services.makeover_asked_keys(session) == {f"u{use.pk}"}


def test_uploads_through_the_form_field_types_are_read_from_the_start(session, chapter):
    """A file already read once (the form's checks) is read again from its first byte."""
    upload = SimpleUploadedFile("a.jpg", files.jpeg_bytes(), "image/jpeg")
    upload.read()
    item = services.makeover_photo_add(session=session, chapter=chapter, upload=upload)
    assert item.width == 60
