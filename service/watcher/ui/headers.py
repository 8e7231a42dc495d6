"""Response headers of every /ui answer: nothing from another origin may run, be styled, framed
or fetched, and hashed assets are cached for good while pages are always revalidated."""

from __future__ import annotations

from aiohttp import web

# No CDN, no inline script or style, no framing, and requests only to this origin (through the
# gateway, that is the gateway: every class is behind it).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def secure(response: web.StreamResponse, cache_control: str) -> web.StreamResponse:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cache-Control"] = cache_control
    return response
