"""Response headers on every admin page: no framing, no inline script, nothing cached.

Admin pages show personal data (a revealed ID number above all), so they must not be
kept by the browser's or a proxy's cache (``no-store``), shown inside another site's
frame (clickjacking a reveal or a decision), or run script that did not come from our
own files (an injected ``<script>`` would read the page). The stylesheet is a file too,
so the policy needs no 'unsafe-inline' at all.
"""

from __future__ import annotations

from flask import Response

from bot.admin.common import bp

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
ADMIN_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@bp.after_request
def protect(response: Response) -> Response:
    response.headers.update(ADMIN_HEADERS)
    return response
