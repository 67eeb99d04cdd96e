"""The client's side of a curated selection: a public phone page behind its unguessable link."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from .models import Selection, SelectionItem
from .services import selection_hold
from .services.selections import selection_items_where


def _live_selection(token: str) -> Selection:
    selection = (
        Selection.objects.live()
        .select_related("customer__home_store", "created_by")
        .filter(token=token)
        .first()
    )
    if selection is None:
        # Expired, revoked or never sent: the same answer, nothing about who it was for.
        raise Http404("This selection is no longer available.")
    return selection


@require_GET
def selection_page(request: HttpRequest, token: str) -> HttpResponse:
    selection = _live_selection(token)
    items = list(selection.items.select_related("product__brand"))
    selection_items_where(selection=selection, items=items)
    return render(
        request, "customers/selection_page.html", {"selection": selection, "items": items}
    )


def _by_link(group: str, request: HttpRequest) -> str:
    """Rate-limit per selection link: one forwarded link cannot flood the associate."""
    return request.resolver_match.kwargs["token"]


@require_POST
@ratelimit(key=_by_link, rate="30/h", method="POST", block=True)
def selection_hold_view(request: HttpRequest, token: str, item_id: int) -> HttpResponse:
    """ "Hold this for me": the associate hears about it on Today."""
    selection = _live_selection(token)
    item = get_object_or_404(
        SelectionItem.objects.select_related("product"), pk=item_id, selection=selection
    )
    item.selection = selection
    selection_hold(item=item)
    return redirect(f"{reverse('selection', args=[token])}?held={item.pk}#item-{item.pk}")
