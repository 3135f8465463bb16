"""Server-rendered pages: the phone-sized data board (``GET /v1/admin/dashboard``).

The page is self-contained (no CDN, no fetch): its CSS and its small chart script are inlined
and allowed by their SHA-256 in the Content-Security-Policy, its data is embedded as JSON."""
