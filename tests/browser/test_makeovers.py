"""A stylist's tablet writes a makeover (a chapter, its step, a product, a photo) and sends
it; the client opens their link on their phone and sees it. Two contexts, one server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from appointments.models import MakeoverMedia
from customers.models import Message
from tests.appointments.makeover_files import jpeg_bytes, makeover_appointment
from tests.browser.conftest import axe_violations, login, small_touch_targets
from tests.factories import PASSWORD, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

TABLET = {"width": 1024, "height": 1366}
TARGETS = "main a, main button, main input, main select, main summary, nav a, header button"


def test_a_stylist_writes_a_makeover_on_a_tablet_and_the_client_opens_it(
    browser, page, live_server, stylist
):
    appointment = makeover_appointment(stylist)
    ProductFactory(sku="LIP-ROSE", name="Velvet lipstick", shade="Rosewood")
    context = browser.new_context(viewport=TABLET, has_touch=True)
    tablet = context.new_page()
    try:
        login(tablet, live_server, "sofia", PASSWORD)
        tablet.goto(f"{live_server.url}/appointments/{appointment.pk}/makeover/")
        expect(tablet.get_by_role("heading", name="Makeover · Claire Dubois")).to_be_visible()
        tablet.get_by_role("button", name="Start makeover notes").click()

        # A chapter with its step, added in place (htmx swaps the list).
        new_chapter = tablet.locator("#new-chapter")
        new_chapter.get_by_label("Area").select_option(label="Eyes")
        new_chapter.get_by_label("Steps").fill("Prime the lids\nBlend the crease")
        new_chapter.get_by_role("button", name="Add the chapter").click()
        chapter = tablet.locator("article.chapter").first
        expect(chapter.get_by_role("heading", name="Eyes")).to_be_visible()
        expect(chapter.get_by_text("Blend the crease")).to_be_visible()

        # A product by its SKU: the catalog's shade comes with it.
        chapter.get_by_text("Add a product").click()
        chapter.get_by_label("Product SKU").fill("lip-rose")
        chapter.get_by_role("button", name="Add the product").click()
        chapter = tablet.locator("article.chapter").first
        expect(chapter.get_by_text("Velvet lipstick added.")).to_be_visible()
        expect(chapter.get_by_text("LIP-ROSE · Rosewood")).to_be_visible()

        # A photo from the camera roll (with the phone's EXIF, which does not survive).
        chapter.get_by_label("Photo:", exact=True).set_input_files(
            files=[
                {
                    "name": "IMG_0042.JPG",
                    "mimeType": "image/jpeg",
                    "buffer": jpeg_bytes((600, 400), orientation=6, gps=True),
                }
            ]
        )
        chapter.get_by_label("Caption").first.fill("After")
        chapter.get_by_role("button", name="Upload the photo").click()
        chapter = tablet.locator("article.chapter").first
        expect(chapter.get_by_text("Photo added.")).to_be_visible()
        photo = chapter.get_by_role("img", name="After")
        expect(photo).to_be_visible()
        assert photo.evaluate("img => img.complete && img.naturalWidth") > 0
        assert MakeoverMedia.objects.get().height == 600  # turned upright

        assert axe_violations(tablet) == []
        assert small_touch_targets(tablet, TARGETS) == []
        assert tablet.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]

        tablet.get_by_role("button", name="Send to Claire").click()
        expect(tablet.locator("#sharing").get_by_text("Sent to Claire by email.")).to_be_visible()
        expect(tablet.get_by_role("button", name=re.compile("Revoke link"))).to_be_visible()
        assert axe_violations(tablet) == []
    finally:
        context.close()

    # The client opens the link from the message, on their phone.
    body = Message.objects.get(purpose="makeover_summary").body
    token = re.search(r"/m/([^/\s]+)/", body).group(1)
    page.goto(f"{live_server.url}/m/{token}/")
    expect(page.get_by_role("heading", name="Your makeover, Claire")).to_be_visible()
    expect(page.get_by_role("heading", name="1. Eyes")).to_be_visible()
    expect(page.get_by_text("Prime the lids")).to_be_visible()
    expect(page.get_by_text("Velvet lipstick", exact=True)).to_be_visible()
    expect(page.get_by_text("shade Rosewood")).to_be_visible()
    shared = page.get_by_role("img", name="After")
    expect(shared).to_be_visible()
    assert shared.evaluate("img => img.complete && img.naturalWidth") > 0
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main a, main button") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name=re.compile(r"^Ask Sofia for this\W+Velvet lipstick$")).click()
    expect(page.get_by_text("Sofia knows you'd like it and will be in touch.")).to_be_visible()
