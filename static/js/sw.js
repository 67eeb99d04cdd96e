/* The service worker: installable app, Web Push, and the associate's pages offline.
 *
 * Served by Django at /sw.js (clienteling/push/views.py), which puts `self.CONFIG`
 * (version, asset URLs) above this file. Its scope is the whole site, but it only ever
 * touches the associate's pages (ASSOCIATE below): every other request (room tablets,
 * public booking, a client's links, the API, the admin, sign-in) goes to the network
 * as if there were no worker, and nothing of it is kept.
 *
 * - Pages: network first; a successful page is kept (Today, the lists, the cards opened,
 *   at most PAGES_MAX, oldest dropped first) with the time it was fetched. Without
 *   signal, the kept copy is shown with a banner "Offline: as of hh:mm".
 * - Assets (CSS, JS, icons): kept at install, served from the cache.
 * - Push: shows the notification (or quiets it: "close"), a tap opens its page.
 * - Message "clear": forget every kept page (sign-out; see device.js).
 */
"use strict";

const CONFIG = self.CONFIG || { version: "dev", assets: [] };
const ASSETS_CACHE = `assets-${CONFIG.version}`;
const PAGES_CACHE = "pages";
const PAGES_MAX = 40;
const CACHED_AT = "X-Cached-At";
// Only these paths are the associate's: "/" exactly, and everything under the others.
const ASSOCIATE = ["/clients/", "/rooms/", "/appointments/", "/more/"];

function isAssociatePage(url) {
  if (url.origin !== self.location.origin) return false;
  if (url.pathname === "/") return true;
  return ASSOCIATE.some((prefix) => url.pathname.startsWith(prefix));
}

function isAsset(url) {
  return url.origin === self.location.origin && CONFIG.assets.includes(url.pathname);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(ASSETS_CACHE).then((cache) => cache.addAll(CONFIG.assets)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("assets-") && name !== ASSETS_CACHE)
            .map((name) => caches.delete(name))
        )
      )
      .then(() => self.clients.claim())
  );
});

// --- Pages ---------------------------------------------------------------------------

// Only the associate's own screens are kept: a page without their navigation (a client
// holding the tablet for the questionnaire, a page shown to a client) never is.
const ASSOCIATE_MARK = 'class="bottom-nav"';

async function keepPage(request, response) {
  const headers = new Headers(response.headers);
  headers.set(CACHED_AT, new Date().toISOString());
  const body = await response.text();
  if (!body.includes(ASSOCIATE_MARK)) return;
  const cache = await caches.open(PAGES_CACHE);
  // Delete first: a page opened again moves to the end (the most recent).
  await cache.delete(request.url);
  await cache.put(request.url, new Response(body, { status: 200, headers }));
  const kept = await cache.keys();
  const drop = kept.filter((entry) => new URL(entry.url).pathname !== "/").slice(0, Math.max(0, kept.length - PAGES_MAX));
  await Promise.all(drop.map((entry) => cache.delete(entry)));
}

function asOf(iso) {
  const when = new Date(iso);
  const hhmm = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  return `<p class="offline-banner" role="status" data-offline-copy>No signal: this page as of <time datetime="${iso}">${hhmm}</time>. Changes you make wait on this phone.</p>`;
}

async function keptPage(request) {
  const cache = await caches.open(PAGES_CACHE);
  const response = await cache.match(request.url);
  if (!response) return null;
  const html = await response.text();
  const banner = asOf(response.headers.get(CACHED_AT) || new Date().toISOString());
  const marked = html.replace(/(<main\b[^>]*>)/, `$1${banner}`);
  return new Response(marked, { status: 200, headers: response.headers });
}

function offlinePage() {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>No signal</title><link rel="stylesheet" href="${CONFIG.assets[0] || ""}"></head>
<body><main id="main" class="page"><h1>No signal</h1>
<p>This page was not opened on this phone while there was signal, so it cannot be shown now.</p>
<p><a href="/">Today</a> and the cards you opened recently work without signal.</p></main></body></html>`;
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function page(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    const url = new URL(response.url || request.url);
    if (response.redirected) {
      // Sent elsewhere: not this page, so not kept under its address. Sent to sign in
      // (idle sign-out, deactivated account): nothing kept stays.
      if (url.pathname.startsWith("/login/")) await caches.delete(PAGES_CACHE);
    } else if (response.ok && (response.headers.get("Content-Type") || "").startsWith("text/html")) {
      event.waitUntil(keepPage(request, response.clone()));
    }
    return response;
  } catch (error) {
    return (await keptPage(request)) || offlinePage();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (isAsset(url)) {
    event.respondWith(caches.match(request.url).then((hit) => hit || fetch(request)));
    return;
  }
  // Only whole pages of the associate: htmx fragments and everything public bypass us.
  if (request.mode !== "navigate" || !isAssociatePage(url)) return;
  event.respondWith(page(event));
});

// --- Push ----------------------------------------------------------------------------

async function tellPages(message) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  windows.forEach((client) => client.postMessage(message));
}

async function showPush(data) {
  const tag = data.tag || "clienteling";
  if (data.type === "close") {
    // Taken care of elsewhere: replace a notification still showing with a quiet one.
    const showing = await self.registration.getNotifications({ tag });
    if (showing.length) {
      await self.registration.showNotification(data.title, {
        body: data.body || "",
        tag,
        silent: true,
        renotify: false,
        icon: "/static/icons/icon-192.png",
        badge: "/static/icons/badge-96.png",
        data: { url: "" },
      });
    }
    await tellPages({ type: "push-closed", tag });
    return;
  }
  await self.registration.showNotification(data.title || "Clienteling", {
    body: data.body || "",
    tag,
    renotify: true,
    requireInteraction: data.kind === "page" || data.kind === "page_escalated",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/badge-96.png",
    data: { url: data.url || "/" },
  });
  await tellPages({ type: "push-shown", tag, title: data.title, url: data.url });
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: event.data ? event.data.text() : "" };
  }
  event.waitUntil(showPush(data));
});

// A tap on a notification: focus a window already showing its page, else bring one of
// ours to it, else open a new one. Only our own origin's pages are ever opened.
async function openFromNotification(notification) {
  notification.close();
  const path = (notification.data && notification.data.url) || "/";
  const target = new URL(path, self.location.origin);
  if (target.origin !== self.location.origin) return;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((client) => client.url === target.href);
  if (same) return same.focus();
  const ours = windows.find((client) => "navigate" in client);
  if (ours) {
    await ours.focus().catch(() => {});
    return ours.navigate(target.href);
  }
  return self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(openFromNotification(event.notification));
});

// --- Messages from the pages -----------------------------------------------------------

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "clear") {
    // Sign-out: nothing of the person's clients stays on the device.
    event.waitUntil(
      caches.delete(PAGES_CACHE).then(() => event.source && event.source.postMessage({ type: "cleared" }))
    );
  } else if (data.type === "open-notification") {
    // The tap on a notification, asked for by a page (browser tests cannot tap one):
    // the very same code path as `notificationclick`.
    event.waitUntil(
      self.registration
        .getNotifications({ tag: data.tag })
        .then((shown) => shown.length && openFromNotification(shown[0]))
    );
  }
});
