/* Today: a group's count follows its rows. Snoozing or dismissing a reason swaps its row
 * away (htmx) and puts a status line out of band; then every group heading marked
 * data-count-rows counts the reason rows it still holds, shown or behind its "Show N more"
 * (data-hidden-rows, until htmx swaps them in). */
(function () {
  "use strict";
  function recount() {
    document.querySelectorAll("[data-count-rows]").forEach(function (count) {
      var group = count.closest(".group");
      if (!group) return;
      var rows = group.querySelectorAll("li.reason").length;
      group.querySelectorAll("[data-hidden-rows]").forEach(function (more) {
        rows += parseInt(more.dataset.hiddenRows, 10) || 0;
      });
      count.textContent = rows + (rows && count.dataset.more ? count.dataset.more : "");
    });
  }
  document.addEventListener("htmx:oobAfterSwap", recount);
  document.addEventListener("htmx:afterSettle", recount);
})();
