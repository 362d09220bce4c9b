"""The installable app's plumbing: the asset list, its hash, the service worker and the manifest.

One service worker, served from /collect/sw.js with scope /collect/, serves
every form: it precaches the app shell (the app's JavaScript and CSS, its
icon, Leaflet) in a cache named by a hash of those files, so a deploy that
changes any of them replaces the cache; pages and runtimes are cached per URL,
and a runtime URL names its form version (`runtime.json?v=3`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from incity.surveys.models import Form

APP_STATIC = Path(__file__).resolve().parent / "static" / "collect"
APP_SUFFIXES = (".js", ".css", ".svg", ".json")
# Leaflet (xstatic-leaflet) for the map questions; its marker images too.
LEAFLET_FILES = (
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
    "leaflet/images/layers.png",
)
SHELL_PREFIX = "incity-collect-shell-"
PAGES_CACHE = "incity-collect-pages"


@functools.lru_cache(maxsize=1)
def shell_assets() -> tuple[tuple[str, ...], str]:
    """The URLs the service worker precaches and a hash of their contents (the cache's name)."""
    names = [f"collect/{path.name}" for path in sorted(APP_STATIC.iterdir()) if path.is_file()]
    names = [name for name in names if name.endswith(APP_SUFFIXES)]
    names += [name for name in LEAFLET_FILES if finders.find(name)]
    digest = hashlib.sha256()
    for name in names:
        found = finders.find(name)
        if isinstance(found, str):
            digest.update(name.encode("utf-8"))
            digest.update(Path(found).read_bytes())
    return tuple(static(name) for name in names), digest.hexdigest()[:12]


_WORKER = """// incity collection app service worker (generated; see incity/collect/pwa.py)
const SHELL = %(shell)s;
const PAGES = %(pages)s;
const ASSETS = %(assets)s;
const NETWORK_WAIT_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(
      keys.filter((key) => key.startsWith(%(prefix)s) && key !== SHELL)
        .map((key) => caches.delete(key))
    )).then(() => self.clients.claim())
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("slow network")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

// Pages and runtimes: the network when it answers in time (so a new version arrives),
// else the copy kept from the last visit.
async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await withTimeout(fetch(request), NETWORK_WAIT_MS);
    if (response.ok && !response.redirected) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request, { ignoreVary: true, ignoreSearch: true });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith("/collect/") && url.pathname !== "/collect/sw.js") {
    event.respondWith(networkFirst(request));
  }
});
"""


@require_safe
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    assets, digest = shell_assets()
    body = _WORKER % {
        "shell": json.dumps(SHELL_PREFIX + digest),
        "prefix": json.dumps(SHELL_PREFIX),
        "pages": json.dumps(PAGES_CACHE),
        "assets": json.dumps(list(assets)),
    }
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # The worker lives under /collect/ already; the header states its scope explicitly.
    response["Service-Worker-Allowed"] = "/collect/"
    return response


def manifest(form: Form, *, start_url: str, scope: str, language: str, rtl: bool) -> dict[str, Any]:
    title = form.title
    return {
        "name": title,
        "short_name": title if len(title) <= 12 else title[:11] + "…",
        "description": "incity: answer the survey on this phone, with or without a connection.",
        "start_url": start_url,
        "scope": scope,
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "lang": language,
        "dir": "rtl" if rtl else "ltr",
        "icons": [
            {
                "src": static("collect/icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            }
        ],
    }
