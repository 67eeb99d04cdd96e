"""DRF plumbing shared by every API: schema naming and the error handler (the parser is
in clienteling/parsers.py).

Kept apart from the URL map (clienteling/api.py) because DRF imports it while the
API views are being defined."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clienteling.core.errors import ApplicationError

logger = logging.getLogger(__name__)


class AutoSchema(SpectacularAutoSchema):
    """Names nested serializers after their API class: OrderBulkIngestApi.InputSerializer
    becomes "OrderBulkIngestApiInput", so every API can call its own InputSerializer."""

    def get_serializer_name(self, serializer, direction) -> str:
        qualified = type(serializer).__qualname__
        if "." in qualified:
            return qualified.replace(".", "").removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


def _size(limit: int) -> str:
    megabytes = limit / 2**20
    return f"{megabytes:g} MB ({limit} bytes)" if megabytes >= 1 else f"{limit} bytes"


def exception_handler(exc, context):
    """Map domain errors to 400 with field messages; a lost race to 409; a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE to 413. Never a 500 for input.

    Django raises RequestDataTooBig when the parser reads request.body; left alone, it
    becomes Django's bare HTML "Bad Request (400)", which no integration can read."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {
                "non_field_errors": [
                    f"The body is larger than the limit of {_size(limit)}: "
                    "send fewer items per request."
                ]
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error answered with 409: %s", exc)
        return Response(
            {
                "non_field_errors": [
                    "Another request changed the same records at the same time; send it again."
                ]
            },
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
