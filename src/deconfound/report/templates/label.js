// deconfound blind labelling page. Reads its items from a JSON block, inserts every text with
// textContent (never innerHTML), keeps progress in localStorage under the sample's id, and
// exports the labels as a gold CSV keyed by opaque item keys (the key file maps them back).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("label-data").textContent);
  var items = data.items;
  var storeKey = "deconfound-label:" + data.sample;
  var state = { position: 0, labels: {} };
  try {
    var saved = window.localStorage.getItem(storeKey);
    if (saved) {
      var parsed = JSON.parse(saved);
      if (parsed && typeof parsed === "object" && parsed.labels) { state = parsed; }
    }
  } catch (e) { /* no storage: labels live until the page closes */ }
  var $ = function (id) { return document.getElementById(id); };
  var choices = Array.prototype.slice.call(document.querySelectorAll("button.choice"));
  var note = $("note");

  function save() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(state));
      $("saved").textContent = "saved in this browser";
    } catch (e) {
      $("saved").textContent = "could not save (storage unavailable): export before closing";
    }
  }
  function current() { return items[state.position]; }
  function labelOf(item) {
    if (!state.labels[item.key]) { state.labels[item.key] = {}; }
    return state.labels[item.key];
  }
  function labelledCount() {
    var n = 0;
    items.forEach(function (it) {
      var l = state.labels[it.key];
      if (l && l.engagement) { n += 1; }
    });
    return n;
  }
  function render() {
    var item = current();
    var lab = state.labels[item.key] || {};
    $("position").textContent = "Item " + (state.position + 1) + " of " + items.length;
    $("progress").textContent = labelledCount() + " labelled";
    $("scenario").textContent = item.scenario;
    $("response").textContent = item.response;
    choices.forEach(function (b) {
      var on = lab[b.getAttribute("data-field")] === b.getAttribute("data-value");
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    note.value = lab.note || "";
  }
  function set(field, value) {
    var lab = labelOf(current());
    if (value === null) { delete lab[field]; } else { lab[field] = value; }
    save();
    render();
  }
  function move(step) {
    state.position = Math.min(items.length - 1, Math.max(0, state.position + step));
    save();
    render();
  }
  function nextOpen() {
    for (var k = 1; k <= items.length; k += 1) {
      var i = (state.position + k) % items.length;
      var l = state.labels[items[i].key];
      if (!l || !l.engagement) { state.position = i; save(); render(); return; }
    }
  }
  function cell(v) {
    var s = v === undefined || v === null ? "" : String(v);
    // a leading = + - @ would be read as a formula by spreadsheets
    if (/^[=+\-@\t\r]/.test(s)) { s = "'" + s; }
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }
  function exportCsv() {
    var lines = ["sample,key_file,item,engagement,ic,refusal_kind,note"];
    items.forEach(function (it) {
      var l = state.labels[it.key];
      if (!l || !l.engagement) { return; }
      lines.push([data.sample, data.key_file, it.key, l.engagement, l.ic || "",
        l.refusal_kind || "", l.note || ""].map(cell).join(","));
    });
    var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = data.export_name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  choices.forEach(function (b) {
    b.addEventListener("click", function () {
      var field = b.getAttribute("data-field");
      var value = b.getAttribute("data-value");
      set(field, (state.labels[current().key] || {})[field] === value ? null : value);
    });
  });
  note.addEventListener("input", function () {
    labelOf(current()).note = note.value;
    save();
  });
  $("prev").addEventListener("click", function () { move(-1); });
  $("next").addEventListener("click", function () { move(1); });
  $("next-open").addEventListener("click", nextOpen);
  $("export").addEventListener("click", exportCsv);
  var keys = { r: ["engagement", "refusal"], p: ["engagement", "partial"],
    e: ["engagement", "engaged"], y: ["ic", "true"], n: ["ic", "false"] };
  data.kinds.forEach(function (k, i) { keys[String(i + 1)] = ["refusal_kind", k]; });
  document.addEventListener("keydown", function (ev) {
    if (ev.target === note || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var k = ev.key;
    if (keys[k]) { set(keys[k][0], keys[k][1]); }
    else if (k === "0") { set("refusal_kind", null); }
    else if (k === "j" || k === "ArrowRight") { move(1); }
    else if (k === "k" || k === "ArrowLeft") { move(-1); }
    else if (k === "u") { nextOpen(); }
    else if (k === "x") { exportCsv(); }
    else { return; }
    ev.preventDefault();
  });
  if (state.position >= items.length) { state.position = 0; }
  render();
}());
