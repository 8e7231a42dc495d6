"""The HTML shell of every page and the static assets. The shell is the same for every page:
the script reads the page's path and asks the API for the data, with the reader's token."""

from __future__ import annotations

import html

from aiohttp import web

from watcher.ui.assets import PREFIX, Assets, AssetsMissing, bundled
from watcher.ui.headers import IMMUTABLE, REVALIDATE, secure


def shell(assets: Assets) -> str:
    css, js = (html.escape(assets.url(name)) for name in ("app.css", "app.js"))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>JCode Watcher</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<script defer src="{js}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/ui/">JCode Watcher</a>
<nav id="crumbs" aria-label="Breadcrumb"></nav></header>
<main id="main" tabindex="-1"><p class="state loading" role="status">Loading…</p></main>
<noscript><p>These pages need JavaScript. The same data is in the API: /api/docs.</p></noscript>
</body>
</html>
"""


async def page(request: web.Request) -> web.StreamResponse:
    try:
        assets = bundled()
    except AssetsMissing as exc:
        raise web.HTTPServiceUnavailable(text=str(exc)) from None
    response = web.Response(text=shell(assets), content_type="text/html", charset="utf-8")
    return secure(response, REVALIDATE)


async def redirect_to_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/ui/")


async def static(request: web.Request) -> web.StreamResponse:
    try:
        asset = bundled().files.get(request.match_info["name"])
    except AssetsMissing:
        asset = None
    if asset is None:
        raise web.HTTPNotFound()
    response = web.Response(body=asset.body, content_type=asset.content_type)
    if asset.content_type.startswith("text/"):
        response.charset = "utf-8"
    response.enable_compression()
    return secure(response, IMMUTABLE)


PAGES = (
    "/ui/",
    "/ui/classes/{class_div}",
    "/ui/classes/{class_div}/assignments/{hw_name}",
    "/ui/classes/{class_div}/assignments/{hw_name}/students/{student_id}",
)


def add_routes(router: web.UrlDispatcher) -> None:
    """What the service and the gateway both serve: every page's shell and the assets. Through
    the gateway the shell is the gateway's own, so a page still loads, and says so, when its
    class's instance is down; its data requests go to the instance."""
    router.add_get("/ui", redirect_to_root)
    for template in PAGES:
        router.add_get(template, page)
    router.add_get(PREFIX + "{name}", static)
