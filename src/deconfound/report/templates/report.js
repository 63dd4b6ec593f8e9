// deconfound report: transcript-explorer filters. Reads its data from a JSON block and only ever
// inserts text with textContent (never innerHTML), so nothing from a model or judge can run.
(function () {
  "use strict";
  var dataNode = document.getElementById("report-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : { transitions: [] };
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.scenario"));
  var category = document.getElementById("f-category");
  var transition = document.getElementById("f-transition");
  var conflict = document.getElementById("f-conflict");
  var search = document.getElementById("f-search");
  var count = document.getElementById("f-count");
  if (!category || !transition || !conflict || !search || !count) { return; }

  data.transitions.forEach(function (t) {
    var option = document.createElement("option");
    option.value = t.value;
    option.textContent = t.label + " (" + t.count + ")";
    transition.appendChild(option);
  });

  function apply() {
    var shown = 0;
    var needle = search.value.trim().toLowerCase();
    rows.forEach(function (row) {
      var ok = true;
      if (category.value && row.getAttribute("data-category") !== category.value) { ok = false; }
      if (ok && transition.value) {
        var tokens = (row.getAttribute("data-transitions") || "").split(" ");
        if (tokens.indexOf(transition.value) < 0) { ok = false; }
      }
      if (ok && conflict.checked && row.getAttribute("data-conflict") !== "1") { ok = false; }
      if (ok && needle && row.textContent.toLowerCase().indexOf(needle) < 0) { ok = false; }
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " scenarios shown";
  }

  [category, transition, conflict].forEach(function (el) { el.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  apply();
})();
