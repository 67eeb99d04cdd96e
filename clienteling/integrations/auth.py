"""DRF authentication and permission for integration tokens.

"Authorization: Token <key>" (as before) or "Authorization: Bearer <key>". The key is
hashed and looked up by its digest (one indexed query with the user); revoked, expired
or unknown keys and inactive accounts get 401. `last_used_at` is written at most once a
minute, with a conditional UPDATE, so a busy integration costs no write per request.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from .models import IntegrationToken, key_digest

LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send “Authorization: Token <key>”.")
        try:
            key = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("The key is not valid.") from error
        token = (
            IntegrationToken.objects.usable()
            .select_related("user", "store")
            .filter(key_digest=key_digest(key))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Unknown, revoked or expired key.")
        now = timezone.now()
        stale = now - LAST_USED_RESOLUTION
        if token.last_used_at is None or token.last_used_at < stale:
            IntegrationToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
            ).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class HasTokenScope(permissions.BasePermission):
    """A request with an integration token needs the view's `required_scope` in it.

    Requests signed in by session (staff using the API from the app) are not limited by
    scopes; the view's other permissions still apply to them.
    """

    message = "This key may not do that: its scopes do not include it."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, IntegrationToken):
            return True
        scope = getattr(view, "required_scope", None)
        return scope is not None and token.allows(scope)


class IntegrationKeyRateThrottle(throttling.SimpleRateThrottle):
    """At most the view's `throttle_rate_setting` requests per key (e.g. "600/min"), counted
    in the shared cache so every web process sees the same count; 429 beyond it.

    Counted per key, not per address: a store's tills share one address behind its router,
    and two keys of one account are two integrations. The rate is read from settings on
    each request (not once at import, as DRF's DEFAULT_THROTTLE_RATES is), so an operator's
    change and a test's override both apply.
    """

    scope = "integration-key"

    def __init__(self) -> None:
        # The rate depends on the view: it is read in allow_request.
        pass

    def allow_request(self, request, view) -> bool:
        setting = getattr(view, "throttle_rate_setting", None)
        self.rate = getattr(settings, setting, None) if setting else None
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.scope = setting.lower()
        self.oldest = None
        client = _redis_client()
        if client is None:
            return super().allow_request(request, view)  # DRF's: read, then write
        # Redis: the window is a sorted set of the accepted requests' times, trimmed,
        # counted and added to by one atomic script (one round trip instead of a read
        # and a write, which two processes could interleave and overshoot).
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        allowed, oldest = _window_script(client)(
            keys=[caches[DEFAULT_CACHE_ALIAS].make_and_validate_key(f"{self.key}:window")],
            args=[repr(self.now), self.duration, self.num_requests, uuid.uuid4().hex],
            client=client,
        )
        if allowed:
            return True
        self.oldest = float(oldest)
        return self.throttle_failure()

    def wait(self) -> float | None:
        if self.oldest is None:
            return super().wait()
        # As DRF's: until the oldest request in the window leaves it.
        return max(self.duration - (self.now - self.oldest), 0.0)

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if isinstance(token, IntegrationToken):
            return self.cache_format % {"scope": self.scope, "ident": f"key-{token.pk}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# KEYS[1]: the window; ARGV: now, duration (s), limit, a unique member. Drops what left
# the window (as DRF's history does), refuses at the limit answering the oldest time,
# else records this request.
WINDOW_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return {1, ''}
"""
_scripts: dict[int, Any] = {}


def _redis_client():
    """The default cache's Redis client, or None when the cache is not Redis."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True)


def _window_script(client):
    script = _scripts.get(id(client.connection_pool))
    if script is None:
        script = _scripts[id(client.connection_pool)] = client.register_script(WINDOW_SCRIPT)
    return script
