// Sortable tables: click a header to sort by that column (numbers by data-sort, text otherwise).
(function () {
  "use strict";
  function sortBy(th) {
    var table = th.closest("table");
    var body = table.tBodies[0];
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (row) {
      var c = row.cells[column];
      return c && (c.hasAttribute("data-sort") || c.textContent === "-");
    });
    function key(row) {
      var c = row.cells[column];
      if (!numeric) { return c ? c.textContent : ""; }
      return c.hasAttribute("data-sort") ? parseFloat(c.getAttribute("data-sort")) : -Infinity;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var order = numeric ? (x < y ? -1 : x > y ? 1 : 0) : String(x).localeCompare(String(y), undefined, {numeric: true});
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(th.parentNode.children, function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable th").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
})();
