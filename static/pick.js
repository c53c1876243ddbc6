// Picking people from a long list (the retro form's roster; any [data-pick] block): filter as you type,
// select all of the rows shown, the same minutes for all. Without script the form's search button posts what
// was typed and the server answers with the matching rows; everything here is an enhancement.
(function () {
  "use strict";
  function setUp(block) {
    var filter = block.querySelector("[data-pick-filter]");
    var rows = Array.prototype.slice.call(block.querySelectorAll("li[data-name]"));
    var count = block.querySelector("[data-pick-count]");
    var empty = block.querySelector("[data-pick-empty]");
    var same = block.querySelector("[data-same-minutes]");
    var total = rows.length;
    rows.forEach(function (row) { row._name = (row.getAttribute("data-name") || "").toLowerCase(); });

    function box(row) { return row.querySelector("input[type=checkbox]"); }
    function shown() { return rows.filter(function (row) { return !row.hidden; }); }
    function recount() {
      if (!count) { return; }
      var picked = rows.filter(function (row) { return box(row).checked; }).length;
      count.textContent = count.getAttribute("data-template").replace("{picked}", picked)
        .replace("{shown}", shown().length).replace("{total}", total);
    }
    function apply() {
      var q = (filter && filter.value || "").trim().toLowerCase();
      var digits = /^\d+$/.test(q);
      rows.forEach(function (row) {
        var hit = !q || row._name.indexOf(q) !== -1 || (digits && (row.getAttribute("data-tail") || "").indexOf(q) !== -1);
        row.hidden = !hit;
      });
      if (empty) { empty.hidden = shown().length > 0 || !q; }
      recount();
    }
    function pickShown(on) {
      shown().forEach(function (row) { box(row).checked = on; });
      recount();
    }

    var search = block.querySelector("[data-pick-search]");
    if (search) { search.remove(); }  // filtering happens as one types; Enter records the form again
    if (filter) {
      filter.addEventListener("input", apply);
      filter.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
    }
    var all = block.querySelector("[data-pick-all]");
    var none = block.querySelector("[data-pick-none]");
    if (all) { all.hidden = false; all.addEventListener("click", function () { pickShown(true); }); }
    if (none) { none.hidden = false; none.addEventListener("click", function () { pickShown(false); }); }
    block.addEventListener("change", function (event) { if (event.target.type === "checkbox") { recount(); } });
    block.addEventListener("input", function (event) {
      var target = event.target;
      if (target === same) {
        rows.forEach(function (row) {
          var minutes = row.querySelector("input[type=number]");
          if (minutes) { minutes.placeholder = same.value || minutes.getAttribute("data-min-placeholder"); }
        });
      } else if (target.type === "number" && target.value) {
        var row = target.closest("li[data-name]");
        if (row) { box(row).checked = true; recount(); }  // minutes typed for someone means they came
      }
    });
    apply();
  }
  document.querySelectorAll("[data-pick]").forEach(setUp);

  // A long <select> of people (e.g. adding a missed volunteer): a search box above it keeps only the matching
  // options, in their order (removed and put back: phones ignore hidden options). Without script the select is whole.
  document.querySelectorAll("[data-select-filter]").forEach(function (input) {
    var select = document.querySelector(input.getAttribute("data-select-filter"));
    if (!select) { return; }
    var options = Array.prototype.slice.call(select.options);
    input.hidden = false;
    input.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var kept = document.createDocumentFragment();
      options.forEach(function (option) {
        if (!q || option.textContent.toLowerCase().indexOf(q) !== -1) { kept.appendChild(option); }
      });
      select.replaceChildren(kept);
    });
  });
})();
