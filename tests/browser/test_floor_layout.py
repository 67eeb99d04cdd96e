"""Floor-ready layout (issue 17): every staff page on a phone (390x844) and a tablet
(1024x1366), with a demo-like store: nothing overflows sideways, no button covers the page's
title, the bottom bar's labels fit, Today's reasons read in lines in short rows.

Each page is also saved to test-artifacts/screens/<size>-<who>-<page>.png, to look at.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, axe_violations, login, small_touch_targets
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    AppointmentKindFactory,
    CustomerFactory,
    NoteFactory,
    OrderFactory,
    PageFactory,
    ReasonFactory,
    RecommendationFactory,
    RoomFactory,
    VisitFactory,
    working_week,
)

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 1024, "height": 1366},
}
SCREENS = ROOT / "test-artifacts" / "screens"

NAMES = [
    ("Claire", "Dubois"),
    ("Anne-Sophie", "de La Rochefoucauld"),
    ("Maya", "Okonkwo-Richardson"),
    ("Jun", "Li"),
    ("Isabella", "Montgomery-Whitfield"),
    ("Tom", "Baker"),
]
WHYS = {
    "alteration_ready": "Her alteration (the navy Lou Lace dress, taken in at the waist) has been "
    "ready since Friday 4 December: invite her to collect it and try it with the new heels.",
    "order_shipped": "Her order of the Amalfi linen shirt and two silk scarves shipped this "
    "morning: check that the sizes suit her when it arrives on Thursday.",
    "birthday": "Birthday on Saturday 12 December: a personal note from you, with the gift "
    "voucher of the season, keeps the relationship warm before the holidays.",
    "replenishment": "She may be running low on the Rose Absolue night cream bought eight weeks "
    "ago (a 50 ml jar lasts about two months at her usual pace).",
    "drifting": "No visit or purchase for 7 months, after buying every season for three years: "
    "the new Italian knitwear is the kind of thing she used to come in for.",
    "client_replied": "Wrote back on Tuesday: “Do you still have the camel coat in a 38? I could "
    "come by on Saturday morning if you can put it aside for me.”",
    "signed_up": "Signed up at the counter on Monday with the sign-up code and asked to hear "
    "about new arrivals in knitwear and about private shopping evenings.",
    "thank_you": "Spent $1,312 on Saturday on a wool coat, a cashmere scarf and gloves: a "
    "thank-you note within the week keeps the relationship warm.",
}
KINDS = [kind for kind in WHYS if kind not in ("client_replied", "signed_up")]


@pytest.fixture
def floor(store, associate, stylist, manager):
    """The SoHo store on a busy day: Alice's book of 30 reasons, Sofia's appointments this
    week (today's among them), a fitting-room page waiting for Alice, a manager."""
    associate.user.last_name = "Martin"
    associate.user.save()
    working_week(stylist)
    try_on = AppointmentKindFactory(name="In-store try-on", uses_fitting_room=True)
    styling = AppointmentKindFactory(name="Personal styling session", default_minutes=90)
    rooms = [RoomFactory(store=store, name=f"Room {n}") for n in (1, 2, 3)]
    now = timezone.now()
    clients = []
    for index in range(30):
        first, last = NAMES[index % len(NAMES)]
        client = CustomerFactory(
            first_name=first if index < len(NAMES) else f"{first}{index}",
            last_name=last,
            home_store=store,
            assigned_associate=associate,
            phone="+12125550100" if index % 2 else "",
        )
        clients.append(client)
        if index < 3:
            kind = "client_replied"
        elif index < 5:
            kind = "signed_up"
        else:
            kind = KINDS[index % len(KINDS)]
        ReasonFactory(customer=client, kind=kind, why=WHYS[kind], score=95 - index * 2)
        if index % 3 == 0:
            RecommendationFactory(customer=client, rank=1, product__name="Lou Lace midi dress")
        if index < 6:
            OrderFactory(
                customer=client,
                placed_at=now - datetime.timedelta(days=index + 1),
                total="1312.00",
                subtotal="1312.00",
            )
    NoteFactory(customer=clients[0], text="Prefers appointments on Saturday mornings.")
    RecommendationFactory(customer=clients[0], rank=2)

    zone = store.zone
    today = timezone.localtime(now, zone).date()
    monday = today - datetime.timedelta(days=today.weekday())
    statuses = ["confirmed", "checked_in", "booked", "requested", "no_show"]
    appointments = []
    for offset in range(7):
        day = monday + datetime.timedelta(days=offset)
        for n, hour in enumerate((10, 13, 16)):
            starts = datetime.datetime.combine(day, datetime.time(hour, 30), tzinfo=zone)
            kind = try_on if n % 2 == 0 else styling
            appointments.append(
                AppointmentFactory(
                    stylist=stylist,
                    customer=clients[(offset * 3 + n) % len(clients)],
                    kind=kind,
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(minutes=kind.default_minutes),
                    status=statuses[(offset + n) % len(statuses)],
                )
            )
    visit = VisitFactory(room=rooms[1], associate=associate, customer=clients[0])
    PageFactory(visit=visit, kind="size")
    return {
        "client": clients[0],
        "appointment": next(a for a in appointments if a.status == "confirmed"),
    }


def _pages(floor) -> dict[str, str]:
    """Every staff page to check, by a short name."""
    client = floor["client"]
    return {
        "today": "/",
        "clients": "/clients/",
        "client-card": f"/clients/{client.pk}/",
        "rooms": "/rooms/",
        "agenda-day": "/appointments/",
        "agenda-week": "/appointments/?view=week",
        "appointment": f"/appointments/{floor['appointment'].pk}/",
        "booking-form": f"/appointments/new/?customer={client.pk}",
        "performance": "/performance/",
        "more": "/more/",
    }


def _open(browser, live_server, size: str, username: str):
    context = browser.new_context(viewport=SIZES[size], has_touch=True, device_scale_factor=1)
    page = context.new_page()
    login(page, live_server, username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def _shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENS, f"{name}.png")), full_page=True)


HEADING_COVERED = """() => {
  const h1 = document.querySelector('main h1');
  if (!h1) return ['no h1'];
  const r = h1.getBoundingClientRect();
  const phone = innerWidth < 600;
  return [...document.querySelectorAll('main a.button, main button, main .button')]
    .filter(el => el.offsetParent !== null)
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([el, b]) => phone
      // On a phone, nothing shares the title's line.
      ? b.top < r.bottom && b.bottom > r.top
      : b.left < r.right && b.right > r.left && b.top < r.bottom && b.bottom > r.top)
    .map(([el, b]) => `${el.innerText.trim()} over "${h1.innerText.trim()}"`);
}"""

# Buttons and links whose box reaches past their card's (or the page's) edge.
SPILLED = """() => [...document.querySelectorAll('main a.button, main button, main .card a, main .badge')]
  .filter(el => el.offsetParent !== null && !el.closest('.table-scroll'))
  .map(el => {
    const box = (el.closest('.card, li, main') || document.body).getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return r.left < box.left - 1 || r.right > box.right + 1
      ? `${el.tagName} "${el.innerText.trim()}" ${Math.round(r.left)}-${Math.round(r.right)} outside ${Math.round(box.left)}-${Math.round(box.right)}`
      : null;
  })
  .filter(Boolean)"""

# In the agenda, a status badge never sits on the appointment's text.
BADGE_ON_TEXT = """() => [...document.querySelectorAll('.appointment-row .row-link')]
  .flatMap(link => {
    const badge = link.querySelector('.badge');
    if (!badge) return [];
    const b = badge.getBoundingClientRect();
    // The badge against the time, the name and the line under it, line box by line box.
    return [...link.querySelectorAll('.agenda-time, .grow strong, .grow > .muted')]
      .flatMap(el => { const range = document.createRange(); range.selectNodeContents(el); return [...range.getClientRects()]; })
      .filter(r => b.left < r.right && b.right > r.left && b.top < r.bottom && b.bottom > r.top)
      .map(() => `${badge.innerText} over "${link.innerText.replace(/\\s+/g, ' ')}"`);
  })"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("username", ["charlie", "alice"])
def test_no_staff_page_overflows_or_covers_its_title(browser, live_server, floor, size, username):
    context, page = _open(browser, live_server, size, username)
    problems = []
    try:
        for name, path in _pages(floor).items():
            if name == "performance" and username != "charlie":
                continue
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            _shoot(page, f"{size}-{username}-{name}")
            width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            if width[0] > width[1]:
                problems.append(f"{name}: {width[0]} px wide in {width[1]}")
            problems += [f"{name}: {p}" for p in page.evaluate(HEADING_COVERED)]
            problems += [f"{name}: {p}" for p in page.evaluate(SPILLED)]
            problems += [f"{name}: {p}" for p in page.evaluate(BADGE_ON_TEXT)]
    finally:
        context.close()
    if problems:
        pytest.fail("\n".join(problems))


NAV_LABELS = """() => {
  const links = [...document.querySelectorAll('nav.bottom-nav a')];
  const out = [];
  const boxes = links.map(a => {
    const label = a.querySelector('.nav-label') || a;
    const r = label.getBoundingClientRect();
    if (label.scrollWidth > label.clientWidth + 1) out.push(`${label.innerText} truncated`);
    if (r.left < 0 || r.right > innerWidth) out.push(`${label.innerText} off screen`);
    return [label.innerText.trim(), r];
  });
  for (let i = 1; i < boxes.length; i++) {
    const [prev, a] = boxes[i - 1], [name, b] = boxes[i];
    // At least 4 px between two labels.
    if (b.left - a.right < 4 && a.top < b.bottom && b.top < a.bottom) out.push(`${prev} touches ${name}`);
  }
  return [out, boxes.map(([name]) => name)];
}"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("username", ["alice", "charlie"])
def test_bottom_nav_labels_fit_and_never_touch(browser, live_server, floor, size, username):
    context, page = _open(browser, live_server, size, username)
    try:
        problems, labels = page.evaluate(NAV_LABELS)
        assert problems == []
        assert labels == ["Today", "Clients", "Rooms", "Agenda", "More"]
        # A manager's extra pages are one tap under "More", without JavaScript.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="More").click()
        more = page.locator("main")
        for name in ["My pages", "Sign-up code", "Personal styling"] + (
            ["Performance", "Response times", "Admin"] if username == "charlie" else []
        ):
            assert more.get_by_role("link", name=name).is_visible(), name
        if username == "alice":
            assert more.get_by_role("link", name="Performance").count() == 0
        _shoot(page, f"{size}-{username}-more")
        assert page.evaluate(NAV_LABELS)[0] == []
    finally:
        context.close()


REASON_ROWS = """() => [...document.querySelectorAll('#reasons li.reason')].map(li => {
  const why = li.querySelector('.reason-why').getBoundingClientRect();
  return {height: li.getBoundingClientRect().height, whyWidth: why.width};
})"""


@pytest.mark.parametrize("size", SIZES)
def test_todays_reasons_read_in_lines_in_short_rows(browser, live_server, floor, size):
    context, page = _open(browser, live_server, size, "alice")
    try:
        # The first screen: each group's first rows (issue 20), the rest one tap away; the
        # heading counts them all, and still does once they are shown.
        assert len(page.evaluate(REASON_ROWS)) == 5 + 6
        more = page.get_by_role("link", name="Show 19 more clients to reach out to")
        more.click()
        expect(page.locator("#reasons li.reason")).to_have_count(30)
        expect(more).to_have_count(0)
        rows = page.evaluate(REASON_ROWS)
        assert len(rows) == 30
        assert all(row["whyWidth"] >= 200 for row in rows), rows
        assert all(row["height"] <= 100 for row in rows), rows
        # The groups' headings (each row has its own menu, a <details> of its own).
        groups = page.locator("#reasons .group > details > summary")
        assert [" ".join(text.split()) for text in groups.all_inner_texts()] == [
            "Replies 5",
            "Reach out 25",
        ]
        # A group folds away, and comes back.
        tom = page.get_by_role("link", name="Reach out to Tom Baker", include_hidden=True)
        page.locator("#reasons-heading").click()
        assert tom.count() == 1 and not tom.is_visible()
        page.locator("#reasons-heading").click()
        assert tom.is_visible()
        assert page.evaluate("document.body.scrollHeight") < 5000
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_today_and_the_agenda_are_accessible(browser, live_server, floor, size):
    context, page = _open(browser, live_server, size, "alice")
    try:
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
        page.goto(f"{live_server.url}/appointments/")
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
        page.goto(f"{live_server.url}/appointments/?view=week")
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
    finally:
        context.close()


def test_the_agenda_shows_the_public_booking_page_with_its_qr_code(
    browser, live_server, floor, store
):
    context, page = _open(browser, live_server, "phone", "alice")
    try:
        page.goto(f"{live_server.url}/appointments/")
        section = page.get_by_role("region", name="Clients book online")
        link = section.get_by_role("link", name="/book/nyc-soho/")
        assert link.get_attribute("href").endswith("/book/nyc-soho/")
        section.get_by_text("Show the QR code").click()
        qr = section.get_by_role("img", name="QR code of the booking page")
        assert qr.is_visible()
        assert qr.bounding_box()["width"] >= 200
        qr.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # the chevron's turn
        page.screenshot(path=str(SCREENS / "phone-alice-agenda-qr.png"))
        assert axe_violations(page) == []
        link.click()
        assert page.url.endswith("/book/nyc-soho/")
    finally:
        context.close()
