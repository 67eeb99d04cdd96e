"""The export API: everything held about one client, for their access request.

In the top layer because the document spans customers and appointments. Staff only, by
session: integration keys push data in and never take a client's file out, so this
view accepts no token at all (a key is answered as if nobody signed in).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clienteling.stores.refusals import get_visible_or_404
from clienteling.stores.scoping import managed_store_ids
from customers.models import Customer

from .privacy import customer_export

BIGINT_MAX = 2**63 - 1


def _get_customer_for_export(request: Request, customer_id: str) -> Customer:
    """A superuser's any client; a manager's client of their own store; else 404.

    The id comes as text and is read here, so that anything (a negative number, more
    digits than the column holds, a word) is a JSON 404, not a routing page or a 500."""
    try:
        pk = int(customer_id)
    except ValueError as wrong:
        raise Http404 from wrong
    if not 0 < pk <= BIGINT_MAX:
        raise Http404
    clients = Customer.objects.select_related("home_store")
    stores = managed_store_ids(request.user)  # the admin's rule: None is every store
    if stores is not None:
        clients = clients.filter(home_store_id__in=stores)
    return get_visible_or_404(request, clients, target="client", where="api", pk=pk)


class CustomerExportApi(APIView):
    """GET: the client's whole file as one JSON document; every export is audited."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "customer_id",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The client's id.",
            )
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The client's file: profile, consent history, orders, messages, "
                "appointments, makeovers and more (see EXPORT_FORMAT).",
            ),
            403: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Not signed in (integration keys are not accepted here).",
            ),
            404: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="No such client, or not one of a store you manage.",
            ),
        },
    )
    def get(self, request: Request, customer_id: str) -> Response:
        customer = _get_customer_for_export(request, customer_id)
        document = customer_export(customer=customer, request=request)
        response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="client-{customer.pk}.json"'
        response["Cache-Control"] = "private, no-store"
        return response
