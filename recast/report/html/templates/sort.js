// Sort a table by a column when its header is clicked (or Enter/Space on it): numbers by
// their data-sort value, text by its content; cells without a value go last either way, and
// equal keys keep their previous order. No library: the page works offline from disk.
(function () {
  "use strict";
  function key(row, column) {
    var cell = row.cells[column];
    if (!cell) return { empty: true };
    var value = cell.getAttribute("data-sort");
    if (value === null) {
      var text = cell.textContent.trim();
      return text === "" || text === "\u2014" ? { empty: true } : { text: text };
    }
    if (value === "") return { empty: true };
    return { number: parseFloat(value) };
  }
  function compare(a, b) {
    if (a.empty || b.empty) return a.empty === b.empty ? 0 : null;
    if (a.number !== undefined && b.number !== undefined) return a.number - b.number;
    var x = a.text !== undefined ? a.text : String(a.number);
    var y = b.text !== undefined ? b.text : String(b.number);
    return x.localeCompare(y, undefined, { numeric: true });
  }
  function sortBy(table, header, column) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, key: key(row, column), index: index };
    });
    rows.sort(function (a, b) {
      var order = compare(a.key, b.key);
      if (order === null) return a.key.empty ? 1 : -1; // empty cells last
      if (order !== 0) return ascending ? order : -order;
      return a.index - b.index;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      header.tabIndex = 0;
      header.title = "sort by this column";
      header.addEventListener("click", function () { sortBy(table, header, column); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header, column);
        }
      });
    });
  });
})();
