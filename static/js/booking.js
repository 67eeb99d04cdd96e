// Public booking pages: when htmx swaps only the times of another day (or restores a page
// from history), mark that day's link as the current one, so screen readers and the
// highlighted chip agree with the times shown. Without JavaScript every link is a page.
(function () {
  "use strict";

  function markCurrentDay() {
    var times = document.getElementById("booking-times");
    if (!times) return;
    var day = times.getAttribute("data-day");
    document.querySelectorAll(".day-links a[data-day]").forEach(function (link) {
      if (link.getAttribute("data-day") === day) {
        link.setAttribute("aria-current", "date");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  document.addEventListener("htmx:afterSettle", markCurrentDay);
  document.addEventListener("htmx:historyRestore", markCurrentDay);
})();
