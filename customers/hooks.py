"""Public endpoints that providers and email clients call: SMS webhooks (a generic
provider's and Twilio's) and unsubscribes."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from clienteling.channels import is_channel
from clienteling.channels import twilio as twilio_channel
from clienteling.channels import whatsapp as whatsapp_channel
from clienteling.core.errors import ApplicationError

from .models import Customer, Source
from .services import consent_record, outreach

logger = logging.getLogger(__name__)


def _signature_ok(request: HttpRequest, secret: str | None = None) -> bool:
    secret = (settings.SMS_WEBHOOK_SECRET if secret is None else secret).encode()
    if not secret:
        return False
    expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers.get("X-Signature", ""))


@csrf_exempt  # a provider calls it; the HMAC signature is what proves who sent it
@require_POST
def sms_webhook(request: HttpRequest) -> HttpResponse:
    """Inbound texts (STOP revokes SMS consent at once) and delivery receipts."""
    if not _signature_ok(request):
        return JsonResponse({"error": "Bad or missing signature."}, status=403)
    try:
        payload = json.loads(request.body)
        kind = payload["type"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "Expected JSON with a “type”."}, status=400)
    try:
        if kind == "inbound":
            result = outreach.sms_inbound(
                from_number=str(payload["from"]), body=str(payload.get("body", ""))
            )
        elif kind == "status":
            result = {
                "updated": outreach.message_delivery_update(
                    provider_id=str(payload["id"]), status=str(payload["status"])
                )
            }
        else:
            return JsonResponse({"type": [f"Unknown type “{kind}”."]}, status=400)
    except KeyError as missing:
        return JsonResponse({str(missing.args[0]): ["This field is required."]}, status=400)
    except ApplicationError as error:
        return JsonResponse(error.as_dict(), status=400)
    return JsonResponse(result)


def _twilio_url(request: HttpRequest) -> str:
    """The public URL Twilio called (what it signed): SITE_URL and the path behind a proxy."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def _twilio_signed(request: HttpRequest) -> bool:
    return twilio_channel.signature_valid(
        _twilio_url(request), request.POST, request.headers.get("X-Twilio-Signature", "")
    )


@csrf_exempt  # Twilio calls it; its X-Twilio-Signature is what proves who sent it
@require_POST
def twilio_sms_webhook(request: HttpRequest) -> HttpResponse:
    """A text, or a WhatsApp message, from a client through Twilio: keywords (STOP...)
    and replies.

    Answers with TwiML: empty, or the keyword's confirmation sent back to the client.
    Twilio retries a webhook that failed: the same MessageSid is handled once.
    """
    if not _twilio_signed(request):
        return HttpResponse("Bad or missing signature.", status=403, content_type="text/plain")
    sender = request.POST.get("From", "")
    if not sender:
        return HttpResponse("From is required.", status=400, content_type="text/plain")
    # WhatsApp messages come here too, their numbers prefixed "whatsapp:".
    channel = ""
    if whatsapp_channel.is_whatsapp_address(sender):
        if not is_channel(whatsapp_channel.SPEC.code):
            logger.warning("A WhatsApp message arrived, but WhatsApp is not in CHANNELS.")
            return HttpResponse(twilio_channel.twiml(), content_type="text/xml")
        channel = whatsapp_channel.SPEC.code
    received = outreach.sms_received(
        from_number=whatsapp_channel.strip_prefix(sender),
        body=request.POST.get("Body", ""),
        to_number=whatsapp_channel.strip_prefix(request.POST.get("To", "")),
        messaging_service_sid=request.POST.get("MessagingServiceSid", ""),
        provider_id=request.POST.get("MessageSid") or request.POST.get("SmsSid", ""),
        channel=channel,
    )
    return HttpResponse(twilio_channel.twiml(received.reply), content_type="text/xml")


@csrf_exempt  # Twilio calls it; its X-Twilio-Signature is what proves who sent it
@require_POST
def twilio_status_webhook(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for one of our texts: delivered, or not and why.

    The URL carries our reference (`?ref=<message id>`, signed with the rest): any
    status, even an intermediate one (queued, sent...), tells us Twilio has the message,
    so one whose SID was not recorded yet (or never will be: its worker died) is recorded
    as sent and never goes twice. A failure records the error's plain words, and failures
    whose code says the number is bad count towards bouncing it.
    """
    if not _twilio_signed(request):
        return HttpResponse("Bad or missing signature.", status=403, content_type="text/plain")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid", "")
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus", "")
    reference = request.GET.get("ref", "")
    if sid and status == "delivered":
        outreach.message_delivery_update(provider_id=sid, status="delivered", reference=reference)
    elif sid and status in ("failed", "undelivered"):
        code = request.POST.get("ErrorCode", "")
        outreach.message_delivery_update(
            provider_id=sid,
            status=status,
            reason=twilio_channel.error_reason(code, status),
            bad_address=code in twilio_channel.BAD_NUMBER_ERROR_CODES,
            reference=reference,
        )
    elif sid and reference:
        outreach.message_provider_accepted(reference=reference, provider_id=sid)
    return HttpResponse(status=204)


@csrf_exempt  # the email provider's inbound parse calls it; the HMAC signature proves it
@require_POST
def email_webhook(request: HttpRequest) -> HttpResponse:
    """A client answered one of our emails: into their conversation and to their associate."""
    if not _signature_ok(request, settings.EMAIL_WEBHOOK_SECRET):
        return JsonResponse({"error": "Bad or missing signature."}, status=403)
    try:
        payload = json.loads(request.body)
        sender = str(payload["from"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"from": ["This field is required."]}, status=400)
    result = outreach.email_inbound(
        from_address=sender,
        subject=str(payload.get("subject", "")),
        body=str(payload.get("body", "")),
    )
    return JsonResponse(result)


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a form of ours
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One click and no more email: the link in every email and its List-Unsubscribe header."""
    try:
        data = signing.loads(token, salt=outreach.UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return render(request, "customers/unsubscribe.html", {"invalid": True}, status=404)
    customer = get_object_or_404(Customer.objects.select_related("home_store"), pk=data.get("c"))
    if request.method == "POST":
        try:
            consent_record(
                customer=customer,
                # The consent the link's channel needs (tokens always name it).
                channel=data.get("ch", ""),
                granted=False,
                source=Source.CLIENT,
                wording="Unsubscribed with the link in an email",
                only_if_changed=True,
            )
        except ApplicationError:
            # An erased client (nothing of theirs left to stop) or a channel no longer
            # registered: nothing more will go to them by it either way.
            logger.info("Unsubscribe link with nothing to record for client %s", customer.pk)
        return render(
            request, "customers/unsubscribe.html", {"done": True, "store": customer.home_store}
        )
    return render(
        request, "customers/unsubscribe.html", {"store": customer.home_store, "token": token}
    )
