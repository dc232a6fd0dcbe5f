"""The API token in the OpenAPI schema: an HTTP bearer scheme, so the docs page shows how to send it."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "siaga_<prefix>_<secret> (made by a region admin; scopes decide what it may read)",
        }
