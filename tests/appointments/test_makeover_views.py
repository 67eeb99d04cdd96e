"""The stylist's makeover editor: every region as a page and as an htmx partial, uploads
refused with clear messages, private files, the client's link; other stores see nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from appointments import services
from appointments.models import (
    Chapter,
    MakeoverMedia,
    MakeoverSession,
    ProductUse,
    Sample,
    ShareLink,
)
from customers.models import AuditEvent, Message, Reason
from tests import factories
from tests.appointments import makeover_files as files

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def appointment(stylist):
    return files.makeover_appointment(stylist)


@pytest.fixture
def session(appointment, stylist):
    return services.makeover_start(appointment=appointment, by=stylist)


@pytest.fixture
def chapter(session):
    return services.chapter_add(session=session, area="eyes", steps="Prime the lids")


@pytest.fixture
def signed_in(client, stylist):
    client.force_login(stylist.user)
    return client


@pytest.fixture
def lipstick(db):
    return factories.ProductFactory(
        sku="LIP-ROSE", name="Velvet lipstick", shade="Rosewood", replenish_after_days=90
    )


def _url(appointment, rest: str = "") -> str:
    return f"/appointments/{appointment.pk}/makeover/{rest}"


def _body(response) -> str:
    return response.content.decode()


# --- The editor ---------------------------------------------------------------------------------


def test_the_editor_offers_to_start_and_a_get_creates_nothing(signed_in, appointment):
    response = signed_in.get(_url(appointment))
    body = _body(response)
    assert response.status_code == 200
    assert "Start makeover notes" in body and "Claire Dubois" in body
    assert f'action="{_url(appointment, "start/")}"' in body
    assert not MakeoverSession.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_appointment_that_is_not_a_makeover_offers_nothing(signed_in, stylist):
    try_on = factories.AppointmentFactory(stylist=stylist)
    body = _body(signed_in.get(_url(try_on)))
    assert "is not a makeover" in body and "Start makeover notes" not in body
    signed_in.post(_url(try_on, "start/"))
    assert not MakeoverSession.objects.exists()


def test_starting_makes_the_session_once_and_comes_back_to_the_editor(signed_in, appointment):
    response = signed_in.post(_url(appointment, "start/"))
    assert response.status_code == 302 and response["Location"] == _url(appointment)
    signed_in.post(_url(appointment, "start/"))
    assert MakeoverSession.objects.filter(appointment=appointment).count() == 1
    body = _body(signed_in.get(_url(appointment)))
    assert "Add a chapter" in body and "Start makeover notes" not in body


def test_opening_a_clients_makeover_is_audited(signed_in, session, stylist):
    signed_in.get(_url(session.appointment))
    event = AuditEvent.objects.get()
    assert (event.actor, event.customer, event.detail["makeover"]) == (
        stylist.user,
        session.customer,
        session.pk,
    )
    assert event.action == "makeover"


def test_the_editor_is_a_phone_page_without_inline_scripts_or_styles(signed_in, session, chapter):
    body = _body(signed_in.get(_url(session.appointment)))
    assert "<script>" not in body and "style=" not in body
    assert 'accept="image/*"' in body and 'enctype="multipart/form-data"' in body
    for hx_get in re.findall(r'<a [^>]*hx-get="[^"]*"[^>]*>', body):
        assert 'href="' in hx_get  # every hx-get link works without JS
    for form in re.findall(r"<form [^>]*>", body):
        assert 'method="post"' in form and 'action="' in form


# --- Chapters ---------------------------------------------------------------------------------


def test_add_a_chapter_plain_redirects_and_htmx_returns_the_chapters(signed_in, session):
    appointment = session.appointment
    response = signed_in.post(
        _url(appointment, "chapters/"), {"new-area": "skin", "new-steps": "Cleanse\nPrime"}
    )
    chapter = Chapter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url(appointment) + f"#chapter-{chapter.pk}"
    assert chapter.step_list == ["Cleanse", "Prime"]

    response = signed_in.post(
        _url(appointment, "chapters/"),
        {"new-area": "custom", "new-custom_title": "Lashes"},
        **HTMX,
    )
    body = _body(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.strip().startswith('<section id="chapters"')
    assert "Lashes added." in body and "Skin" in body


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_chapter_without_a_title_gets_a_field_message(signed_in, session, headers):
    response = signed_in.post(
        _url(session.appointment, "chapters/"), {"new-area": "custom"}, **headers
    )
    assert response.status_code == 200
    assert "Give the chapter a title." in _body(response)
    assert not Chapter.objects.exists()


def test_a_chapter_is_edited_inline(signed_in, session, chapter):
    url = _url(session.appointment, f"chapters/{chapter.pk}/")
    response = signed_in.get(url + "?edit=1", **HTMX)
    body = _body(response)
    assert "<html" not in body and body.strip().startswith(f'<article id="chapter-{chapter.pk}"')
    assert f'name="c{chapter.pk}-steps"' in body and "Save the chapter" in body

    full = _body(signed_in.get(url + "?edit=1"))
    assert "<html" in full and f'name="c{chapter.pk}-steps"' in full

    response = signed_in.post(
        url, {f"c{chapter.pk}-area": "lips", f"c{chapter.pk}-steps": "Line\nFill"}, **HTMX
    )
    body = _body(response)
    assert "Lips saved." in body and "<li>Fill</li>" in body and "Save the chapter" not in body
    chapter.refresh_from_db()
    assert (chapter.area, chapter.step_list) == ("lips", ["Line", "Fill"])

    view = _body(signed_in.get(url, **HTMX))
    assert "Save the chapter" not in view and "<li>Line</li>" in view


def test_chapters_move_and_are_removed(signed_in, session, chapter):
    lips = services.chapter_add(session=session, area="lips")
    base = _url(session.appointment, "chapters/")
    response = signed_in.post(f"{base}{lips.pk}/move/", {"direction": "up"}, **HTMX)
    assert _body(response).strip().startswith('<section id="chapters"')
    assert [c.title for c in session.chapters.all()] == ["Lips", "Eyes"]

    response = signed_in.post(f"{base}{lips.pk}/remove/")
    assert response.status_code == 302
    assert list(session.chapters.values_list("area", flat=True)) == ["eyes"]


# --- Products and samples -----------------------------------------------------------------------


def test_add_and_remove_a_product_by_sku(signed_in, session, chapter, lipstick):
    base = _url(session.appointment, f"chapters/{chapter.pk}/products/")
    response = signed_in.post(
        base, {f"p{chapter.pk}-product": "lip-rose", f"p{chapter.pk}-quantity": "1"}, **HTMX
    )
    body = _body(response)
    assert "<html" not in body and "Velvet lipstick added." in body
    assert "LIP-ROSE · Rosewood" in body
    use = ProductUse.objects.get()
    assert (use.product, use.chapter, use.shade) == (lipstick, chapter, "Rosewood")

    response = signed_in.post(f"{base}{use.pk}/remove/")
    assert response.status_code == 302 and not ProductUse.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"product": "NOPE-1", "quantity": "1"}, "No product has this SKU."),
        ({"product": "", "quantity": "1"}, "This field is required."),
        ({"product": "LIP-ROSE", "quantity": "99"}, "less than or equal to 20"),
    ],
)
def test_bad_product_input_gets_a_field_message(
    signed_in, session, chapter, lipstick, data, message
):
    for headers in ({}, HTMX):
        response = signed_in.post(
            _url(session.appointment, f"chapters/{chapter.pk}/products/"),
            {f"p{chapter.pk}-{name}": value for name, value in data.items()},
            **headers,
        )
        assert response.status_code == 200 and message in _body(response)
    assert not ProductUse.objects.exists()


def test_add_and_remove_a_sample(signed_in, session, lipstick):
    appointment = session.appointment
    response = signed_in.post(
        _url(appointment, "samples/"),
        {"sample-product": "LIP-ROSE", "sample-shade": "Coral", "sample-quantity": "2"},
        **HTMX,
    )
    body = _body(response)
    assert body.strip().startswith('<section id="samples"') and "Coral" in body
    sample = Sample.objects.get()
    assert (sample.product, sample.quantity) == (lipstick, 2)
    signed_in.post(_url(appointment, f"samples/{sample.pk}/remove/"))
    assert not Sample.objects.exists()


def test_notes_are_saved_and_private_notes_stay_in_the_editor(signed_in, session):
    response = signed_in.post(
        _url(session.appointment, "notes/"),
        {"notes-title": "Evening", "notes-summary": "Glowy", "notes-private_notes": "Retinol"},
        **HTMX,
    )
    assert "Notes saved." in _body(response)
    session.refresh_from_db()
    assert (session.title, session.summary, session.private_notes) == (
        "Evening",
        "Glowy",
        "Retinol",
    )


# --- Photos and videos --------------------------------------------------------------------------


def test_upload_a_photo_and_staff_get_it_privately(signed_in, session, chapter):
    url = _url(session.appointment, f"chapters/{chapter.pk}/photos/")
    upload = files.photo(files.jpeg_bytes((60, 40), orientation=6, gps=True))
    response = signed_in.post(url, {f"f{chapter.pk}-photo": upload}, **HTMX)
    body = _body(response)
    assert response.status_code == 200 and "Photo added." in body
    item = MakeoverMedia.objects.get()
    assert (item.chapter, item.width, item.height) == (chapter, 40, 60)
    assert f"/makeover/media/{item.token}/thumb/" in body

    photo = signed_in.get(_url(session.appointment, f"media/{item.token}/"))
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg"
    assert photo["Cache-Control"] == "private, no-cache"
    assert photo["X-Content-Type-Options"] == "nosniff"
    assert b"PhoneMaker" not in b"".join(photo.streaming_content)
    thumb = signed_in.get(_url(session.appointment, f"media/{item.token}/thumb/"))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"


def _bad_upload(kind, settings):
    if kind == "not an image":
        return "photo", files.photo(b"%PDF-1.4 not a photo", name="menu.jpg")
    if kind == "too many pixels":
        settings.MAKEOVER_MAX_PIXELS = 100
        return "photo", files.photo(files.jpeg_bytes((50, 50)))
    if kind == "photo too big":
        settings.MAKEOVER_MAX_UPLOAD_BYTES = 1024
        return "photo", files.photo(files.jpeg_bytes((60, 40)) + b"\0" * 4096)
    if kind == "wrong video type":
        return "video", files.video(files.jpeg_bytes(), name="clip.mp4", content_type="video/mp4")
    settings.MAKEOVER_MAX_VIDEO_BYTES = 1024
    return "video", files.video(files.mp4_bytes(size=4096))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not an image", "This file is not a photo we can read."),
        ("too many pixels", "This picture has too many pixels"),
        ("photo too big", "the most we take is 1 kB"),
        ("wrong video type", "This file is not a video we can play."),
        ("video too big", "the most we take is 1 kB"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_bad_upload_gets_a_clear_form_error_and_nothing_is_saved(
    signed_in, session, chapter, settings, kind, message, headers
):
    field, upload = _bad_upload(kind, settings)
    prefix = "f" if field == "photo" else "v"
    path = "photos/" if field == "photo" else "videos/"
    response = signed_in.post(
        _url(session.appointment, f"chapters/{chapter.pk}/{path}"),
        {f"{prefix}{chapter.pk}-{field}": upload},
        **headers,
    )
    assert response.status_code == 200
    assert message in _body(response)
    assert ("<html" in _body(response)) is not bool(headers)
    assert not MakeoverMedia.objects.exists()


def test_a_video_link_is_added_and_a_photo_hidden_from_the_client(signed_in, session, chapter):
    base = _url(session.appointment, f"chapters/{chapter.pk}/videos/")
    signed_in.post(base, {f"v{chapter.pk}-link": "https://video.example.com/eyes"})
    link = MakeoverMedia.objects.get()
    assert link.kind == "link"

    response = signed_in.post(
        _url(session.appointment, f"media/{link.token}/shared/"), {"shared": "false"}, **HTMX
    )
    assert 'aria-pressed="false"' in _body(response)
    link.refresh_from_db()
    assert link.shared is False
    signed_in.post(_url(session.appointment, f"media/{link.token}/remove/"))
    assert not MakeoverMedia.objects.exists()


def test_a_video_answers_byte_ranges(signed_in, session, chapter):
    data = files.mp4_bytes(size=4096)
    item = services.makeover_video_add(session=session, chapter=chapter, upload=files.video(data))
    url = _url(session.appointment, f"media/{item.token}/")

    whole = signed_in.get(url)
    assert whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "video/mp4"
    assert b"".join(whole.streaming_content) == data

    part = signed_in.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 100-199/4096" and part["Content-Length"] == "100"
    assert b"".join(part.streaming_content) == data[100:200]
    assert signed_in.get(url, HTTP_RANGE="bytes=5000-").status_code == 416


# --- Finish and send ----------------------------------------------------------------------------


def test_mark_complete_raises_replenishment_reasons_once(signed_in, session, chapter, lipstick):
    services.product_use_add(chapter=chapter, product=lipstick)
    response = signed_in.post(_url(session.appointment, "complete/"), **HTMX)
    assert "Makeover complete." in _body(response)
    response = signed_in.post(_url(session.appointment, "complete/"), **HTMX)
    assert "already complete" in _body(response)
    assert Reason.objects.filter(kind=Reason.Kind.REPLENISHMENT).count() == 1


def test_send_to_client_queues_one_message_with_its_dedupe_key(signed_in, session):
    response = signed_in.post(_url(session.appointment, "share/"), **HTMX)
    body = _body(response)
    assert "<html" not in body and "Sent to Claire by email." in body
    link = ShareLink.objects.get()
    message = Message.objects.get()
    assert message.dedupe_key == f"makeover:{session.pk}:share:{link.pk}"
    assert message.purpose == "makeover_summary" and message.is_marketing is False
    assert "Revoke link" in body

    response = signed_in.post(_url(session.appointment, f"share/{link.pk}/revoke/"))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert Message.objects.count() == 1


def test_send_without_consent_says_why_and_saves_nothing(signed_in, stylist):
    customer = factories.CustomerFactory(first_name="Nina", home_store=stylist.store)
    appointment = factories.AppointmentFactory(
        stylist=stylist, customer=customer, kind=factories.MakeoverKindFactory()
    )
    services.makeover_start(appointment=appointment, by=stylist)
    response = signed_in.post(_url(appointment, "share/"), **HTMX)
    assert "The link can&#x27;t be sent: Never agreed to email." in _body(response)
    response = signed_in.post(_url(appointment, "share/"), follow=True)
    assert "Never agreed to email." in _body(response)
    assert not ShareLink.objects.exists() and not Message.objects.exists()


# --- Who may -------------------------------------------------------------------------------------

WRITES = [
    "start/",
    "notes/",
    "complete/",
    "share/",
    "share/{link}/revoke/",
    "chapters/",
    "chapters/{chapter}/",
    "chapters/{chapter}/remove/",
    "chapters/{chapter}/move/",
    "chapters/{chapter}/products/",
    "chapters/{chapter}/products/{use}/remove/",
    "chapters/{chapter}/photos/",
    "chapters/{chapter}/videos/",
    "samples/",
    "samples/{sample}/remove/",
    "media/{media}/remove/",
    "media/{media}/shared/",
]
READS = ["", "chapters/{chapter}/", "media/{media}/", "media/{media}/thumb/"]


@pytest.fixture
def everything(session, chapter, lipstick):
    use = services.product_use_add(chapter=chapter, product=lipstick)
    sample = services.sample_add(session=session, product=lipstick)
    media = services.makeover_photo_add(session=session, chapter=chapter, upload=files.photo())
    link = factories.ShareLinkFactory(session=session)
    return {
        "chapter": chapter.pk,
        "use": use.pk,
        "sample": sample.pk,
        "media": media.token,
        "link": link.pk,
    }


def _snapshot():
    return (
        list(MakeoverSession.objects.values()),
        list(Chapter.objects.values()),
        list(ProductUse.objects.values()),
        list(Sample.objects.values()),
        list(MakeoverMedia.objects.values()),
        list(ShareLink.objects.values()),
        Message.objects.count(),
    )


@pytest.mark.parametrize(
    ("method", "rest"), [("get", r) for r in READS] + [("post", w) for w in WRITES]
)
def test_another_stores_staff_get_404_and_nothing_changes(
    client, other_store_associate, session, everything, method, rest
):
    client.force_login(other_store_associate.user)
    before = _snapshot()
    data = {"new-area": "skin", "direction": "up", "shared": "false", "notes-title": "x"}
    response = getattr(client, method)(_url(session.appointment, rest.format(**everything)), data)
    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("method", "rest"), [("get", r) for r in READS] + [("post", w) for w in WRITES]
)
def test_anonymous_is_sent_to_sign_in(session, everything, method, rest):
    url = _url(session.appointment, rest.format(**everything))
    response = getattr(Client(), method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("rest", [w for w in WRITES if w != "chapters/{chapter}/"])
def test_a_get_on_a_write_is_405(signed_in, everything, session, rest):
    response = signed_in.get(_url(session.appointment, rest.format(**everything)))
    assert response.status_code == 405


@pytest.mark.parametrize("rest", ["", "media/{media}/"])
def test_a_post_on_a_read_is_405(signed_in, everything, session, rest):
    response = signed_in.post(_url(session.appointment, rest.format(**everything)))
    assert response.status_code == 405


def test_a_store_manager_sees_the_makeover_and_a_stranger_without_a_store_does_not(
    client, manager, session
):
    client.force_login(manager.user)
    assert client.get(_url(session.appointment)).status_code == 200
    client.force_login(factories.UserFactory(username="nobody"))
    assert client.get(_url(session.appointment)).status_code == 404


# --- Query counts ------------------------------------------------------------------------------------


def _fill(session, chapters: int) -> None:
    for _ in range(chapters):
        chapter = factories.ChapterFactory(session=session)
        factories.ProductUseFactory(chapter=chapter)
        factories.ProductUseFactory(chapter=chapter)
        factories.MakeoverMediaFactory(session=session, chapter=chapter)
    factories.SampleFactory(session=session)
    factories.ShareLinkFactory(session=session)


def test_the_editors_queries_do_not_grow_with_chapters(
    signed_in, session, django_assert_num_queries
):
    url = _url(session.appointment)
    # 1 user (the session itself is read from the cache), 2 staff, 3 the appointment with
    # its session, client, kind, store and stylists, 4 chapters, 5 their products with
    # product and brand, 6 photos and videos, 7 samples with product and brand, 8 links,
    # 9 the messages that carried them, 10 the audit insert.
    _fill(session, 2)
    signed_in.get(url)  # the first request after signing in loads the session into the cache
    with django_assert_num_queries(9):
        assert signed_in.get(url).status_code == 200
    _fill(session, 3)
    with django_assert_num_queries(9):
        body = _body(signed_in.get(url))
    assert body.count('class="card chapter"') == 5


def test_the_admin_revokes_links_and_never_shows_their_digest(client, session):
    link = factories.ShareLinkFactory(session=session, token="admin-sees-no-secret")
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    change = client.get(f"/admin/appointments/sharelink/{link.pk}/change/")
    assert change.status_code == 200 and link.token_digest not in change.content.decode()
    listing = client.get("/admin/appointments/sharelink/")
    assert link.token_digest not in listing.content.decode()

    response = client.post(
        "/admin/appointments/sharelink/",
        {"action": "revoke_links", "_selected_action": [link.pk]},
        follow=True,
    )

    assert "1 link(s) revoked." in response.content.decode()
    link.refresh_from_db()
    assert link.revoked_at is not None
    session_page = client.get(f"/admin/appointments/makeoversession/{session.pk}/change/")
    assert session_page.status_code == 200
