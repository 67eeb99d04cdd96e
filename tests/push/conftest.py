from __future__ import annotations

import pytest

from clienteling.push.management.commands.generate_vapid_keys import vapid_key_pair
from clienteling.push.models import PushSubscription
from tests.fake_push import BrowserKeys


@pytest.fixture
def push_on(settings):
    """The store set its VAPID keys: push is on."""
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_key_pair()
    settings.VAPID_SUBJECT = "mailto:it@example.com"
    return settings


def subscribe(user, endpoint: str, keys: BrowserKeys | None = None) -> PushSubscription:
    keys = keys or BrowserKeys()
    return PushSubscription.objects.create(
        user=user, endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth, label="test phone"
    )
