"""The client's makeover page: public by its personal link, only that session, only shared
photos, never private notes; unknown, expired and revoked links get a friendly refusal;
"Ask Sofia for this" reaches Today once, rate-limited per link."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import ShareLink
from customers.models import Reason
from customers.selectors import reasons_for_today
from tests import factories
from tests.appointments import makeover_files as files

pytestmark = pytest.mark.django_db

TOKEN = "the-secret-of-claires-link"


@pytest.fixture
def appointment(stylist, associate):
    customer = factories.CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=stylist.store,
        assigned_associate=associate,
    )
    return files.makeover_appointment(stylist, customer=customer)


@pytest.fixture
def session(appointment, stylist):
    session = services.makeover_start(appointment=appointment, by=stylist)
    services.makeover_update(
        session=session,
        title="Evening look",
        private_notes="Reacts to retinol: never again",
        summary="A soft, glowy evening look.",
    )
    return session


@pytest.fixture
def lipstick(db):
    return factories.ProductFactory(sku="LIP-ROSE", name="Velvet lipstick", shade="Rosewood")


@pytest.fixture
def filled(session, stylist, lipstick):
    """Eyes (a step, a product, a shared photo and a hidden one) and a sample."""
    eyes = services.chapter_add(session=session, area="eyes", steps="Prime the lids\nBlend")
    use = services.product_use_add(chapter=eyes, product=lipstick, note="dabbed, not swept")
    shown = services.makeover_photo_add(
        session=session, chapter=eyes, upload=files.photo(), caption="After"
    )
    hidden = services.makeover_photo_add(
        session=session, chapter=eyes, upload=files.photo(), caption="Close-up of the rash"
    )
    services.makeover_media_set_shared(media=hidden, shared=False)
    serum = factories.ProductFactory(name="Night serum")
    sample = services.sample_add(session=session, product=serum)
    return {"use": use, "shown": shown, "hidden": hidden, "sample": sample}


@pytest.fixture
def link(session):
    return factories.ShareLinkFactory(session=session, token=TOKEN)


def _page(token: str = TOKEN, rest: str = "") -> str:
    return f"/m/{token}/{rest}"


def test_the_link_opens_the_makeover_chapter_by_chapter(client, link, filled):
    response = client.get(_page())
    body = response.content.decode()
    assert response.status_code == 200
    assert "Your makeover, Claire" in body and "With Sofia at SoHo" in body
    assert "A soft, glowy evening look." in body
    assert "1. Eyes" in body and "<li>Prime the lids</li>" in body
    assert "Velvet lipstick" in body and "shade Rosewood" in body and "dabbed, not swept" in body
    assert "Night serum" in body and "Your samples" in body
    assert "Ask Sofia for this" in body
    assert f"/m/{TOKEN}/media/{filled['shown'].token}/thumb/" in body
    assert filled["hidden"].token not in body and "rash" not in body
    assert "retinol" not in body  # the private notes never reach the client
    assert response["Cache-Control"] == "private, no-store"
    assert "<script>" not in body and "style=" not in body


def test_opening_the_page_is_counted(client, link):
    client.get(_page())
    client.get(_page())
    link.refresh_from_db()
    assert link.open_count == 2 and link.last_opened_at is not None


def test_the_client_gets_shared_photos_privately(client, link, filled):
    shown = filled["shown"]
    response = client.get(_page(rest=f"media/{shown.token}/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert client.get(_page(rest=f"media/{shown.token}/thumb/")).status_code == 200
    hidden = client.get(_page(rest=f"media/{filled['hidden'].token}/"))
    assert hidden.status_code == 404


def test_a_link_opens_only_its_own_session(client, link, filled, stylist):
    other_appointment = files.makeover_appointment(
        stylist, starts_at=timezone.now() + datetime.timedelta(days=3)
    )
    other = services.makeover_start(appointment=other_appointment, by=stylist)
    other_photo = services.makeover_photo_add(session=other, upload=files.photo())
    other_link = factories.ShareLinkFactory(session=other, token="another-clients-link")

    # Claire's link cannot fetch the other client's photo, nor theirs hers.
    assert client.get(_page(rest=f"media/{other_photo.token}/")).status_code == 404
    shown = filled["shown"].token
    assert client.get(_page("another-clients-link", f"media/{shown}/")).status_code == 404
    body = client.get(_page("another-clients-link")).content.decode()
    assert "Velvet lipstick" not in body and other_link.session == other

    response = client.post(_page("another-clients-link", "ask/"), {"item": f"u{filled['use'].pk}"})
    assert response.status_code == 200
    assert "no longer on your page" in response.content.decode()
    assert not Reason.objects.exists()


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda session: None, 404),
        (
            lambda session: factories.ShareLinkFactory(
                session=session, token=TOKEN, expires_at=timezone.now()
            ),
            410,
        ),
        (
            lambda session: factories.ShareLinkFactory(
                session=session, token=TOKEN, revoked_at=timezone.now()
            ),
            410,
        ),
    ],
    ids=["unknown", "expired", "revoked"],
)
def test_unknown_expired_and_revoked_links_get_a_friendly_page(
    client, session, filled, make, status
):
    make(session)
    for url in (_page(), _page(rest=f"media/{filled['shown'].token}/")):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == status
        assert "This link is not available" in body
        assert "Claire" not in body and "Velvet" not in body and "SoHo" not in body
    response = client.post(_page(rest="ask/"), {"item": f"u{filled['use'].pk}"})
    assert response.status_code == status
    assert not Reason.objects.exists()


def test_revoking_a_link_refuses_it_at_once(client, link, filled):
    assert client.get(_page()).status_code == 200
    services.share_link_revoke(link=link)
    assert client.get(_page()).status_code == 410
    assert client.get(_page(rest=f"media/{filled['shown'].token}/")).status_code == 410


def test_a_sent_link_opens_the_page(client, session, stylist):
    sent = services.share_link_send(session=session, by=stylist)
    path = sent.url.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    assert ShareLink.objects.get().open_count == 1


def test_asking_for_a_product_reaches_the_associate_on_today_once(client, link, filled, associate):
    use = filled["use"]
    response = client.post(_page(rest="ask/"), {"item": f"u{use.pk}"})
    assert response.status_code == 302
    assert response["Location"] == f"/m/{TOKEN}/?asked=u{use.pk}#u{use.pk}"
    client.post(_page(rest="ask/"), {"item": f"u{use.pk}"})

    reason = Reason.objects.get()
    assert reason.kind == Reason.Kind.CLIENT_REPLIED
    assert "Claire asked Sofia for Velvet lipstick in Rosewood" in reason.why
    assert reason in reasons_for_today(staff=associate)
    body = client.get(response["Location"]).content.decode()
    assert "Thank you: Sofia knows you'd like it and will be in touch." in body


def test_asking_for_a_sample_works_too(client, link, filled):
    client.post(_page(rest="ask/"), {"item": f"s{filled['sample'].pk}"})
    assert Reason.objects.get().product == filled["sample"].product


@pytest.mark.parametrize("item", ["", "x12", "u", "u99999999", "s0", "u1; DROP TABLE"])
def test_a_bad_ask_never_fails(client, link, filled, item):
    response = client.post(_page(rest="ask/"), {"item": item})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a product on this page." in body or "no longer on your page" in body
    assert not Reason.objects.exists()


def test_asking_is_rate_limited_per_link(client, link, filled, settings, session):
    settings.MAKEOVER_ASK_RATE = "2/m"
    use, sample = filled["use"], filled["sample"]
    assert client.post(_page(rest="ask/"), {"item": f"u{use.pk}"}).status_code == 302
    assert client.post(_page(rest="ask/"), {"item": f"s{sample.pk}"}).status_code == 302

    response = client.post(_page(rest="ask/"), {"item": f"u{use.pk}"})

    assert response.status_code == 429
    assert "You have asked several times just now." in response.content.decode()
    # Another link has its own count.
    factories.ShareLinkFactory(session=session, token="second-link")
    assert client.post(_page("second-link", "ask/"), {"item": f"u{use.pk}"}).status_code == 302


def test_wrong_methods_are_405(client, link, filled):
    assert client.post(_page()).status_code == 405
    assert client.get(_page(rest="ask/")).status_code == 405
    assert client.post(_page(rest=f"media/{filled['shown'].token}/")).status_code == 405


def test_the_pages_queries_do_not_grow_with_chapters(
    client, link, session, django_assert_num_queries
):
    # 1 the link with its session, appointment, store, stylist and client, 2 the open
    # count, 3 chapters, 4 their products with product and brand, 5 shared media,
    # 6 samples, 7 what the client already asked for.
    for _ in range(2):
        factories.ProductUseFactory(chapter=factories.ChapterFactory(session=session))
    with django_assert_num_queries(7):
        assert client.get(_page()).status_code == 200
    for _ in range(3):
        chapter = factories.ChapterFactory(session=session)
        factories.ProductUseFactory(chapter=chapter)
        factories.MakeoverMediaFactory(session=session, chapter=chapter)
        factories.SampleFactory(session=session)
    with django_assert_num_queries(7):
        assert client.get(_page()).status_code == 200
