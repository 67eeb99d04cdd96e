/* This device: the service worker, notifications, signal, and what stays on the phone.
 *
 * Loaded (defer) by base.html on every page; `data-signed-in` on its <script> says
 * whether someone is signed in.
 * - Signed in: registers /sw.js (static/js/sw.js). Offers notifications in a sheet
 *   after the person's first tap, never on load (and again a week after "Not now");
 *   where the browser already said yes, keeps this device subscribed quietly.
 * - Sign-out (the header's form): first clears what the worker kept (pages), the queue
 *   of writes (IndexedDB) and this device's push subscription, then signs out.
 * - Signed out (the sign-in page after an idle sign-out or a deactivated account):
 *   clears the same, so a shared tablet never shows the last person's book.
 * - Without signal: a banner says so; offline.js queues writes.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var signedIn = script && script.dataset.signedIn === "true";
  var state = (window.clientelingDevice = window.clientelingDevice || { pushes: [] });
  var DB_NAME = "clienteling";
  var ANSWERED_KEY = "push:answered";
  var SAVED_KEY = "push:saved";
  var ASK_AGAIN_MS = 7 * 24 * 3600 * 1000;
  if (!("serviceWorker" in navigator)) {
    return;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data),
    });
  }

  // --- Nothing left behind ------------------------------------------------------------

  function deleteDatabase() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve();
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () {
        resolve();
      };
    });
  }

  function clearCaches() {
    if (!window.caches) return Promise.resolve();
    return caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) {
        return caches.delete(name);
      }));
    });
  }

  function dropSubscription(tellServer) {
    if (!("PushManager" in window)) return Promise.resolve();
    return navigator.serviceWorker.getRegistration().then(function (registration) {
      if (!registration) return;
      return registration.pushManager.getSubscription().then(function (subscription) {
        localStorage.removeItem(SAVED_KEY);
        if (!subscription) return;
        var told = tellServer
          ? post("/push/subscriptions/remove/", { endpoint: subscription.endpoint }).catch(function () {})
          : Promise.resolve();
        return told.then(function () {
          return subscription.unsubscribe();
        });
      });
    });
  }

  // Everything of this person on this device: kept pages, queued writes, the push
  // subscription (a shared device must not ring for whoever used it last).
  function clearDevice(tellServer) {
    if (window.clientelingOffline) window.clientelingOffline.close();
    return Promise.all([clearCaches(), deleteDatabase(), dropSubscription(tellServer).catch(function () {})]);
  }
  state.clear = clearDevice;

  if (!signedIn) {
    navigator.serviceWorker.getRegistration().then(function (registration) {
      if (registration || window.caches || window.indexedDB) {
        clearDevice(false).then(function () {
          document.documentElement.dataset.deviceCleared = "true";
        });
      }
    });
    return;
  }

  // A page without the associate's navigation may be in a client's hands (the tablet
  // handed over for the questionnaire): no page of the book stays to be read offline.
  if (!document.querySelector("nav.bottom-nav") && window.caches) {
    caches.delete("pages");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches('form[action$="/logout/"]') || form.dataset.cleared) return;
    event.preventDefault();
    var offline = window.clientelingOffline;
    var done = function () {
      form.dataset.cleared = "true";
      form.submit();
    };
    var giveUp = function (ms) {
      return new Promise(function (resolve) { setTimeout(resolve, ms); });
    };
    // What waits is sent first if it can be; what cannot would be lost: ask.
    Promise.race([offline ? offline.flush() : Promise.resolve(), giveUp(3000)])
      .then(function () {
        var waiting = offline ? offline.pendingCount : 0;
        return !waiting || window.confirm(
          (waiting === 1 ? "1 change has" : waiting + " changes have") +
            " not been sent yet (no signal). Sign out anyway and lose " + (waiting === 1 ? "it" : "them") + "?"
        );
      })
      .then(function (leave) {
        if (!leave) return;
        // Never keep someone from signing out: clear for at most three seconds.
        return Promise.race([clearDevice(true), giveUp(3000)]).then(done, done);
      });
  });

  // --- The worker ---------------------------------------------------------------------

  var registered = navigator.serviceWorker.register("/sw.js", { scope: "/" });
  state.ready = registered.then(function () {
    return navigator.serviceWorker.ready;
  });
  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "push-shown" || data.type === "push-closed") {
      state.pushes.push(data);
      document.dispatchEvent(new CustomEvent("clienteling:push", { detail: data }));
    }
  });

  // --- Notifications ------------------------------------------------------------------

  var keyMeta = document.querySelector('meta[name="push-key"]');
  var prompt = document.getElementById("push-prompt");
  var pushSupported = keyMeta && prompt && "PushManager" in window && "Notification" in window;

  function applicationServerKey() {
    var text = keyMeta.content.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(text + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(raw, function (c) {
      return c.charCodeAt(0);
    });
  }

  function subscribe() {
    return state.ready.then(function (registration) {
      return registration.pushManager
        .getSubscription()
        .then(function (existing) {
          return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: applicationServerKey() });
        })
        .then(function (subscription) {
          // Told once per subscription (sign-out drops it, so a new person makes a new one).
          if (localStorage.getItem(SAVED_KEY) === subscription.endpoint) return;
          return post("/push/subscriptions/", subscription.toJSON()).then(function (response) {
            if (!response.ok) throw new Error("not saved");
            localStorage.setItem(SAVED_KEY, subscription.endpoint);
          });
        });
    });
  }

  function answeredRecently() {
    var answered = Number(localStorage.getItem(ANSWERED_KEY) || 0);
    return answered && Date.now() - answered < ASK_AGAIN_MS;
  }

  function status(text) {
    prompt.querySelector("[data-push-status]").textContent = text;
  }

  function offer() {
    if (Notification.permission !== "default" || answeredRecently()) return;
    prompt.hidden = false;
  }

  if (pushSupported) {
    if (Notification.permission === "granted") {
      // Said yes before (maybe as someone else, who signed out): subscribe quietly.
      subscribe().catch(function () {});
    } else {
      // After the first tap, never on load: the prompt answers something the person did.
      var firstTap = function (event) {
        if (prompt.contains(event.target)) return;
        document.removeEventListener("click", firstTap, true);
        offer();
      };
      document.addEventListener("click", firstTap, true);
    }
    prompt.querySelector("[data-push-accept]").addEventListener("click", function () {
      status("Asking this phone…");
      Notification.requestPermission()
        .then(function (permission) {
          localStorage.setItem(ANSWERED_KEY, String(Date.now()));
          if (permission !== "granted") {
            status("Notifications stay off. You can allow them in the browser's site settings.");
            return;
          }
          return subscribe().then(function () {
            status("Notifications are on for this phone.");
            setTimeout(function () { prompt.hidden = true; }, 2500);
          });
        })
        .catch(function () {
          status("This phone could not turn notifications on. Try again later.");
        });
    });
    prompt.querySelector("[data-push-dismiss]").addEventListener("click", function () {
      localStorage.setItem(ANSWERED_KEY, String(Date.now()));
      prompt.hidden = true;
    });
  }

  // --- Signal -------------------------------------------------------------------------

  var banner = document.getElementById("device-status");
  function showSignal() {
    if (!banner) return;
    var offlineText = banner.querySelector("[data-offline-text]");
    var pendingText = banner.querySelector("[data-pending-text]");
    var pending = (window.clientelingOffline && window.clientelingOffline.pendingCount) || 0;
    // A copy the worker served already says "as of": no second line about signal then.
    offlineText.hidden = navigator.onLine || Boolean(document.querySelector("[data-offline-copy]"));
    pendingText.hidden = pending === 0;
    pendingText.textContent = pending === 1 ? "1 change waits to be sent." : pending + " changes wait to be sent.";
    banner.hidden = offlineText.hidden && pendingText.hidden;
    document.body.classList.toggle("device-status-shown", !banner.hidden);
  }
  state.showSignal = showSignal;
  window.addEventListener("online", showSignal);
  window.addEventListener("offline", showSignal);
  document.addEventListener("clienteling:pending", showSignal);
  showSignal();
})();
