/* Writes without signal: a note, a logged contact and a quick-add are kept on the phone
 * (IndexedDB) and sent when signal returns, each exactly once.
 *
 * Loaded (defer) by base.html for signed-in staff. Without signal, the submit of one of
 * those forms (recognised by its action, WRITES below) is taken over: the form's fields
 * go into the queue with an Idempotency-Key of their own, and the form says it waits.
 * The queue is sent in order when the browser says it is online again, on each page
 * load, and every RETRY_MS while something waits. The server keeps each key
 * (clienteling/push/idempotency.py): an item sent twice (its answer lost) is done once.
 * An item leaves the queue only once the server answered it.
 */
(function () {
  "use strict";
  if (!window.indexedDB || window.clientelingOffline) return;
  var DB_NAME = "clienteling";
  var STORE = "queue";
  var RETRY_MS = 15000;
  // The writes that may wait: a note or a contact on a card, a quick-add.
  var WRITES = [/^\/clients\/\d+\/notes\/$/, /^\/clients\/\d+\/contact\/$/, /^\/clients\/new\/$/];
  var db = null;
  var flushing = null;
  var api = (window.clientelingOffline = { pendingCount: 0, sent: 0, close: close });

  function open() {
    if (db) return Promise.resolve(db);
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () {
        db = request.result;
        // Sign-out deletes the database: let it.
        db.onversionchange = close;
        resolve(db);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function close() {
    if (db) db.close();
    db = null;
  }

  function tx(mode, work) {
    return open().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () {
          resolve(result && "result" in result ? result.result : undefined);
        };
        transaction.onerror = transaction.onabort = function () {
          reject(transaction.error);
        };
      });
    });
  }

  function all() {
    return tx("readonly", function (store) {
      return store.getAll();
    }).then(function (items) {
      return (items || []).sort(function (a, b) {
        return a.createdAt - b.createdAt;
      });
    });
  }

  function counted() {
    return all().then(function (items) {
      if (api.pendingCount && !items.length) {
        document.querySelectorAll(".pending-mark").forEach(function (mark) {
          mark.dataset.waiting = "0";
          mark.textContent = "Sent. It shows here the next time the page opens.";
        });
      }
      api.pendingCount = items.length;
      document.dispatchEvent(new CustomEvent("clienteling:pending", { detail: items.length }));
      return items;
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function send(item) {
    var body = new URLSearchParams(item.body);
    // The token of this page (a sign-in since the write rotated it).
    var token = csrfToken();
    if (token) body.set("csrfmiddlewaretoken", token);
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Idempotency-Key": item.key, "X-CSRFToken": token },
      body: body,
    }).then(function (response) {
      // Answered (done, or refused for good): it leaves the queue. 5xx: try again later.
      if (response.type === "opaqueredirect" || response.status < 500) return true;
      return false;
    });
  }

  function remove(key) {
    return tx("readwrite", function (store) {
      store.delete(key);
    });
  }

  function flush() {
    if (flushing) return flushing;
    flushing = all()
      .then(function (items) {
        var chain = Promise.resolve();
        items.forEach(function (item) {
          chain = chain.then(function () {
            if (!navigator.onLine) throw new Error("offline");
            return send(item).then(function (done) {
              if (!done) throw new Error("server");
              api.sent += 1;
              return remove(item.key);
            });
          });
        });
        return chain;
      })
      .catch(function () {})
      .then(function () {
        flushing = null;
        return counted();
      });
    return flushing;
  }
  api.flush = flush;

  function keep(form) {
    var url = new URL(form.action, location.href);
    var item = {
      key: newKey(),
      url: url.pathname,
      body: new URLSearchParams(new FormData(form)).toString(),
      createdAt: Date.now(),
    };
    return tx("readwrite", function (store) {
      store.put(item);
    }).then(counted);
  }

  // What was written, in a few words, so the person sees which one waits.
  function excerpt(form) {
    var field = form.querySelector("textarea, input[type=text]");
    var text = field ? field.value.trim().replace(/\s+/g, " ") : "";
    return text.length > 60 ? text.slice(0, 57) + "…" : text;
  }

  function markWaiting(form, what) {
    var mark = form.querySelector(".pending-mark");
    if (!mark) {
      mark = document.createElement("p");
      mark.className = "pending-mark";
      mark.setAttribute("role", "status");
      form.appendChild(mark);
    }
    var waiting = (Number(mark.dataset.waiting) || 0) + 1;
    mark.dataset.waiting = String(waiting);
    mark.textContent =
      (what ? "“" + what + "”" : "Saved") +
      (waiting > 1 ? " and " + (waiting - 1) + " more" : "") +
      " saved on this phone: sent when there is signal.";
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (navigator.onLine || (form.method || "").toLowerCase() !== "post") return;
      var path = new URL(form.action, location.href).pathname;
      if (!WRITES.some(function (pattern) { return pattern.test(path); })) return;
      // Ours now: neither htmx nor the browser sends it without signal.
      event.preventDefault();
      event.stopImmediatePropagation();
      var what = excerpt(form);
      keep(form).then(function () {
        form.reset();
        markWaiting(form, what);
      });
    },
    true
  );

  window.addEventListener("online", flush);
  setInterval(function () {
    if (api.pendingCount && navigator.onLine) flush();
  }, RETRY_MS);
  if (navigator.onLine) flush();
  else counted();
})();
