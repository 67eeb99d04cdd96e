"""The client's makeover page: public, no login, behind the personal link a stylist sent.

The link's secret is never stored: the page looks up its sha256 digest. An unknown link
answers 404 and an expired or revoked one 410, with the same friendly words and nothing
about whose makeover it was. A link opens its own session only, and only the photos the
stylist marked as shared; private notes never reach this page.

"Ask Sofia for this" opens a client-initiated reason on Today (once per product),
rate-limited per link (MAKEOVER_ASK_RATE) so a forwarded link cannot flood anyone.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from .. import services
from ..forms.makeovers import AskForm
from ..models import MakeoverMedia, ProductUse, Sample, ShareLink, share_token_digest
from ..services.makeovers import used_on
from .makeovers import media_file_response

RATE_GROUP = "appointments.makeover-ask"
MAX_TOKEN_LENGTH = 100
LIMITED_MESSAGE = (
    "You have asked several times just now. Your stylist has your requests: "
    "they will be in touch soon."
)


def _no_cache(response: HttpResponse) -> HttpResponse:
    # Personal, and a revoked link must stop at once: nothing keeps a copy.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unavailable(request: HttpRequest, status: int) -> HttpResponse:
    """The same words for unknown, expired and revoked links: nothing about who or why."""
    return _no_cache(render(request, "appointments/makeover_gone.html", status=status))


def _link_or_refusal(request: HttpRequest, token: str) -> tuple[ShareLink | None, HttpResponse]:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None, _unavailable(request, 404)
    link = (
        ShareLink.objects.select_related(
            "session__appointment__store", "session__stylist__user", "session__customer"
        )
        .filter(token_digest=share_token_digest(token))
        .first()
    )
    if link is None or link.session.customer_id is None:
        return None, _unavailable(request, 404)
    if not link.is_usable():
        return None, _unavailable(request, 410)
    return link, None


def _page(
    request: HttpRequest, token: str, link: ShareLink, *, status: int = 200, **extra
) -> HttpResponse:
    """The page, in a constant number of queries: chapters, their products, the shared
    media, the samples and what the client already asked for."""
    session = link.session
    chapters = list(
        session.chapters.prefetch_related(
            Prefetch("products", ProductUse.objects.select_related("product__brand"))
        )
    )
    shared = list(session.media.filter(shared=True))
    samples = list(session.samples.select_related("product__brand"))
    asked = services.makeover_asked_keys(session)
    for chapter in chapters:
        chapter.media_items = [item for item in shared if item.chapter_id == chapter.pk]
        for use in chapter.products.all():
            use.ask_key = f"u{use.pk}"
            use.asked = use.ask_key in asked
    for sample in samples:
        sample.ask_key = f"s{sample.pk}"
        sample.asked = sample.ask_key in asked
    stylist = session.stylist.user.first_name or "your stylist"
    context = {
        "token": token,
        "session": session,
        "store": session.appointment.store,
        "customer": session.customer,
        "stylist_name": stylist,
        "day": used_on(session),
        "chapters": chapters,
        "unfiled_media": [item for item in shared if item.chapter_id is None],
        "samples": samples,
        "asked": asked,
        **extra,
    }
    return _no_cache(render(request, "appointments/makeover_page.html", context, status=status))


@require_GET
def makeover_page(request: HttpRequest, token: str) -> HttpResponse:
    link, refusal = _link_or_refusal(request, token)
    if link is None:
        return refusal
    services.share_link_opened(link=link)
    just_asked = request.GET.get("asked", "")
    return _page(request, token, link, just_asked=just_asked)


@require_GET
def makeover_page_media(
    request: HttpRequest, token: str, media_token: str, thumbnail: bool = False
) -> HttpResponse:
    """A shared photo or video of this link's own session; anything else is a 404."""
    link, refusal = _link_or_refusal(request, token)
    if link is None:
        return refusal
    item = MakeoverMedia.objects.filter(
        session_id=link.session_id, token=media_token, shared=True
    ).first()
    if item is None:
        return _unavailable(request, 404)
    return media_file_response(request, item, thumbnail=thumbnail)


def _token_key(group: str, request: HttpRequest) -> str:
    """Rate-limit per link: the token in the URL, whoever's phone it was forwarded to."""
    return share_token_digest(request.resolver_match.kwargs["token"])


def _rate(group: str, request: HttpRequest) -> str:
    return settings.MAKEOVER_ASK_RATE


@require_POST
@ratelimit(group=RATE_GROUP, key=_token_key, rate=_rate, method="POST", block=False)
def makeover_ask(request: HttpRequest, token: str) -> HttpResponse:
    """ "Ask Sofia for this": the stylist (through Today) hears the client wants it."""
    link, refusal = _link_or_refusal(request, token)
    if link is None:
        return refusal
    if getattr(request, "limited", False):
        return _page(request, token, link, status=429, limited=LIMITED_MESSAGE)
    form = AskForm(request.POST)
    if not form.is_valid():
        return _page(request, token, link, ask_error="Choose a product on this page.")
    item = form.cleaned_data["item"]
    session = link.session
    pk = int(item[1:])
    if item.startswith("u"):
        row = (
            ProductUse.objects.select_related("product")
            .filter(pk=pk, chapter__session=session)
            .first()
        )
    else:
        row = Sample.objects.select_related("product").filter(pk=pk, session=session).first()
    if row is None:
        return _page(request, token, link, ask_error="This product is no longer on your page.")
    if isinstance(row, ProductUse):
        services.makeover_ask(session=session, product_use=row)
    else:
        services.makeover_ask(session=session, sample=row)
    # Asked again or for the first time: the same answer (one reason either way).
    url = reverse("makeover-page", args=[token])
    return redirect(f"{url}?asked={item}#{item}")
