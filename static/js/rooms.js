/* Fitting rooms, in the browser: ring for new pages, keep ages ticking, reset the tablet.
 *
 * Loaded (defer) by the pages that show the pager or a room, and by the room tablet. The
 * regions themselves are plain htmx polling; this file only listens to htmx events:
 * - a waiting page this tab has not seen yet rings: a short chime through the Web Audio
 *   API (browsers allow sound only after the person has touched the page once, so the
 *   audio context is unlocked on the first tap) and a vibration where navigator.vibrate
 *   exists (Android); the row is announced in the #pager-status live region;
 * - <time data-age> elements count up between polls ("40 s", "2 min");
 * - the tablet reloads itself when its visit changes (a client left, a new one came),
 *   unless someone is typing, so the next client starts from a clean page.
 */
(function () {
  "use strict";
  if (window.clientelingRooms) {
    return;
  }
  window.clientelingRooms = true;

  var SEEN_KEY = "rooms:seen-pages";
  var SEEN_MAX = 200;
  var audio = null;

  function unlockAudio() {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) {
      return;
    }
    try {
      if (!audio) {
        audio = new AudioContext();
      }
      if (audio.state === "suspended") {
        audio.resume();
      }
    } catch (error) {
      audio = null;
    }
  }
  ["pointerdown", "keydown", "touchstart"].forEach(function (type) {
    document.addEventListener(type, unlockAudio, { passive: true });
  });

  function chime() {
    if (audio && audio.state === "running") {
      var start = audio.currentTime;
      [880, 1175].forEach(function (frequency, index) {
        var at = start + index * 0.18;
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = "sine";
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
        oscillator.connect(gain);
        gain.connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + 0.3);
      });
    }
    if (navigator.vibrate) {
      try {
        navigator.vibrate([200, 100, 200]);
      } catch (error) {
        /* not allowed yet (no tap on the page): the chime and the highlight remain */
      }
    }
  }

  function readSeen() {
    try {
      var raw = window.sessionStorage.getItem(SEEN_KEY);
      return raw === null ? null : JSON.parse(raw);
    } catch (error) {
      return null;
    }
  }

  function writeSeen(ids) {
    try {
      window.sessionStorage.setItem(SEEN_KEY, JSON.stringify(ids.slice(-SEEN_MAX)));
    } catch (error) {
      /* private mode: every page load starts afresh */
    }
  }

  function checkPager(pager, initial) {
    var rows = pager.querySelectorAll("[data-waiting-page]");
    var seen = readSeen();
    var firstVisit = seen === null;
    seen = seen || [];
    var fresh = [];
    rows.forEach(function (row) {
      var id = Number(row.getAttribute("data-waiting-page"));
      if (seen.indexOf(id) === -1) {
        fresh.push(row);
        seen.push(id);
      }
    });
    writeSeen(seen);
    // The very first look in this tab shows what is waiting without ringing.
    if (!fresh.length || (initial && firstVisit)) {
      return;
    }
    fresh.forEach(function (row) {
      row.classList.add("is-new");
    });
    chime();
    var status = document.getElementById("pager-status");
    if (status) {
      var row = fresh[fresh.length - 1];
      status.textContent =
        "New page: " + row.getAttribute("data-room") + ", " + row.getAttribute("data-kind") + ".";
    }
  }

  function shortAge(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 10) {
      return "just now";
    }
    if (seconds < 60) {
      return seconds + " s";
    }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return minutes + " min";
    }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function tickAges() {
    document.querySelectorAll("time[data-age]").forEach(function (element) {
      var at = Date.parse(element.getAttribute("datetime"));
      if (!isNaN(at)) {
        element.textContent = shortAge((Date.now() - at) / 1000);
      }
    });
  }

  function someoneIsTyping() {
    var active = document.activeElement;
    if (active && active.matches("input, textarea, select")) {
      return true;
    }
    return Array.prototype.some.call(
      document.querySelectorAll("main input[type=text], main input[type=tel]"),
      function (input) {
        return input.value !== "";
      }
    );
  }

  function checkTablet(status) {
    var main = document.querySelector("[data-tablet-visit]");
    if (!main || status.getAttribute("data-visit") === main.getAttribute("data-tablet-visit")) {
      return;
    }
    if (!someoneIsTyping()) {
      window.location.reload();
    }
  }

  function scan(initial) {
    var pager = document.getElementById("pager");
    if (pager) {
      checkPager(pager, initial);
    }
    var tabletStatus = document.getElementById("tablet-status");
    if (tabletStatus) {
      checkTablet(tabletStatus);
    }
    tickAges();
  }

  document.addEventListener("htmx:afterSettle", function () {
    scan(false);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      scan(true);
    });
  } else {
    scan(true);
  }
  window.setInterval(tickAges, 5000);
})();
