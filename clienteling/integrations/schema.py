"""How the OpenAPI schema describes integration tokens (drf-spectacular extension)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "clienteling.integrations.auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "“Token <key>” (or “Bearer <key>”): a key issued to one integration in the "
                "admin or with `manage.py create_integration`, limited to its scopes."
            ),
        }
