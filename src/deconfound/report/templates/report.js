// deconfound report: the transcript explorer. Its rows arrive as one gzip + base64 block inside
// the JSON data element (layout: deconfound/report/explorer_data.py); the browser's own
// DecompressionStream inflates it and only one page of rows is built at a time, so a report of
// 100,000 responses opens as fast as a small one. Text is only ever inserted with textContent
// (never innerHTML), so nothing from a model or judge can run.
(function () {
  "use strict";
  var FORMAT = "deconfound-explorer/1";
  var PAGE_RESPONSES = 400; // responses per page; a scenario is never split across pages
  var dataNode = document.getElementById("report-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : { transitions: [] };
  var tbody = document.getElementById("explorer-rows");
  var status = document.getElementById("explorer-status");
  var category = document.getElementById("f-category");
  var transition = document.getElementById("f-transition");
  var conflict = document.getElementById("f-conflict");
  var search = document.getElementById("f-search");
  var count = document.getElementById("f-count");
  var prev = document.getElementById("f-prev");
  var next = document.getElementById("f-next");
  var pageText = document.getElementById("f-page");
  if (!tbody || !status || !category || !transition || !conflict || !search || !count ||
      !prev || !next || !pageText) { return; }

  data.transitions.forEach(function (t) {
    var option = document.createElement("option");
    option.value = t.value;
    option.textContent = t.label + " (" + t.count + ")";
    transition.appendChild(option);
  });

  function fail(message) {
    status.textContent = message;
    tbody.dataset.state = "error";
  }

  function bytesOf(b64) {
    if (typeof Uint8Array.fromBase64 === "function") { return Uint8Array.fromBase64(b64); }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i += 1) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function inflate(b64) {
    var gunzip = new DecompressionStream("gzip");
    return new Response(new Blob([bytesOf(b64)]).stream().pipeThrough(gunzip)).text();
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function offsets(counts) {
    var first = new Int32Array(counts.length + 1);
    for (var i = 0; i < counts.length; i += 1) { first[i + 1] = first[i] + counts[i]; }
    return first;
  }

  function explorer(d) {
    var S = d.strings;
    var sc = d.scenarios;
    var rs = d.responses;
    var lb = d.labels;
    var nScen = sc.id.length;
    var firstResp = offsets(sc.n);
    var firstLab = offsets(rs.n);
    var tokens = sc.tokens.map(function (i) { return i < 0 ? [] : S[i].split(" "); });
    var hay = null; // lower-cased text of each scenario, built on the first search
    var shown = [];
    var pages = [0];
    var page = 0;

    function str(i) { return i < 0 ? null : S[i]; }

    function texts(s) {
      var parts = [S[sc.id[s]], S[sc.category[s]]];
      if (sc.source[s] >= 0) { parts.push(S[sc.source[s]]); }
      sc.transitions[s].forEach(function (i) { parts.push(S[i]); });
      sc.prompts[s].forEach(function (pair) { parts.push(S[pair[1]]); });
      for (var r = firstResp[s]; r < firstResp[s + 1]; r += 1) {
        parts.push(d.state_labels[S[rs.state[r]]] || S[rs.state[r]]);
        rs.conflict[r].forEach(function (i) { parts.push(S[i]); });
        if (rs.text[r] >= 0) { parts.push(S[rs.text[r]]); }
        for (var k = firstLab[r]; k < firstLab[r + 1]; k += 1) {
          [lb.judge[k], lb.version[k], lb.role[k], lb.summary[k], lb.evidence[k],
            lb.explanation[k]].forEach(function (i) { if (i >= 0) { parts.push(S[i]); } });
        }
      }
      return parts.join("\n").toLowerCase();
    }

    function labelItem(k) {
      var li = el("li");
      li.appendChild(el("span", "judge", S[lb.judge[k]]));
      if (lb.version[k] >= 0) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "note", "(" + S[lb.version[k]] + ")"));
      }
      if (lb.role[k] >= 0) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "role", "[" + S[lb.role[k]] + "]"));
      }
      li.appendChild(document.createTextNode(": " + S[lb.summary[k]]));
      if (lb.evidence[k] >= 0) { li.appendChild(el("blockquote", "evidence", S[lb.evidence[k]])); }
      if (lb.explanation[k] >= 0) {
        var why = el("details");
        why.appendChild(el("summary", null, "reason"));
        why.appendChild(el("div", "note", S[lb.explanation[k]]));
        li.appendChild(why);
      }
      return li;
    }

    function response(r, inCell) {
      var box = el("div", "response");
      var state = S[rs.state[r]];
      box.appendChild(el("span", "badge " + state, d.state_labels[state] || state));
      if (rs.epoch[r] !== 1 || inCell > 1) {
        box.appendChild(document.createTextNode(" "));
        box.appendChild(el("span", "note", "epoch " + rs.epoch[r]));
      }
      if (str(rs.status[r]) !== "ok") {
        box.appendChild(document.createTextNode(" "));
        box.appendChild(el("span", "note", "response " + str(rs.status[r])));
      }
      rs.conflict[r].forEach(function (i) { box.appendChild(el("div", "badge conflict", S[i])); });
      var list = el("ul", "labels");
      for (var k = firstLab[r]; k < firstLab[r + 1]; k += 1) { list.appendChild(labelItem(k)); }
      box.appendChild(list);
      var text = str(rs.text[r]);
      box.appendChild(text === null ? el("p", "note", "no response text") : el("pre", "text", text));
      return box;
    }

    function row(s) {
      var tr = el("tr", "scenario");
      var sid = S[sc.id[s]];
      tr.id = "scenario-" + sid;
      tr.dataset.scenario = sid;
      tr.dataset.category = S[sc.category[s]];
      tr.dataset.transitions = tokens[s].join(" ");
      tr.dataset.conflict = sc.conflict[s] ? "1" : "0";
      var head = el("td", "scen");
      head.appendChild(el("div", "sid", sid));
      var source = str(sc.source[s]);
      head.appendChild(el("div", "note", S[sc.category[s]] + (source ? " · " + source : "")));
      sc.transitions[s].forEach(function (i) { head.appendChild(el("div", "note", S[i])); });
      if (sc.conflict[s]) { head.appendChild(el("span", "badge conflict", "judges disagree")); }
      if (sc.prompts[s].length) {
        var prompt = el("details");
        prompt.appendChild(el("summary", null, "scenario prompt"));
        sc.prompts[s].forEach(function (pair) {
          if (pair[0] >= 0) { prompt.appendChild(el("div", "note", S[pair[0]])); }
          prompt.appendChild(el("pre", "prompt", S[pair[1]]));
        });
        head.appendChild(prompt);
      }
      tr.appendChild(head);
      var cells = d.conditions.map(function () { return []; });
      for (var r = firstResp[s]; r < firstResp[s + 1]; r += 1) { cells[rs.condition[r]].push(r); }
      d.conditions.forEach(function (name, c) {
        var cell = el("td", "cell");
        cell.dataset.condition = name;
        if (!cells[c].length) { cell.appendChild(el("p", "note", "no response under this condition")); }
        cells[c].forEach(function (r) { cell.appendChild(response(r, cells[c].length)); });
        tr.appendChild(cell);
      });
      return tr;
    }

    function show(p) {
      page = p;
      var rows = document.createDocumentFragment();
      var end = p + 1 < pages.length ? pages[p + 1] : shown.length;
      for (var i = pages[p]; i < end; i += 1) { rows.appendChild(row(shown[i])); }
      if (!shown.length) {
        var none = el("tr");
        var cell = el("td", "note", "No scenario matches the filters.");
        cell.colSpan = d.conditions.length + 1;
        none.appendChild(cell);
        rows.appendChild(none);
      }
      tbody.replaceChildren(rows);
      pageText.textContent = shown.length ? "page " + (p + 1) + " of " + pages.length +
        " (scenarios " + (pages[p] + 1) + "–" + end + ")" : "";
      prev.disabled = p === 0;
      next.disabled = p + 1 >= pages.length;
    }

    function apply() {
      var needle = search.value.trim().toLowerCase();
      if (needle && hay === null) {
        hay = [];
        for (var h = 0; h < nScen; h += 1) { hay.push(texts(h)); }
      }
      shown = [];
      for (var s = 0; s < nScen; s += 1) {
        if (category.value && S[sc.category[s]] !== category.value) { continue; }
        if (transition.value && tokens[s].indexOf(transition.value) < 0) { continue; }
        if (conflict.checked && !sc.conflict[s]) { continue; }
        if (needle && hay[s].indexOf(needle) < 0) { continue; }
        shown.push(s);
      }
      pages = [0];
      var used = 0;
      shown.forEach(function (s, i) {
        var n = sc.n[s];
        if (used > 0 && used + n > PAGE_RESPONSES) { pages.push(i); used = 0; }
        used += n;
      });
      count.textContent = shown.length + " of " + nScen + " scenarios shown";
      show(0);
    }

    function turn(step) {
      show(page + step);
      document.getElementById("explorer").scrollIntoView();
    }

    [category, transition, conflict].forEach(function (node) {
      node.addEventListener("change", apply);
    });
    search.addEventListener("input", apply);
    prev.addEventListener("click", function () { turn(-1); });
    next.addEventListener("click", function () { turn(1); });
    apply();
    tbody.dataset.state = "ready";
    if (window.performance && performance.mark) { performance.mark("explorer-ready"); }
  }

  if (typeof data.explorer !== "string") {
    fail("This report carries no transcripts.");
  } else if (typeof DecompressionStream === "undefined") {
    fail("This browser cannot unpack the transcripts (it lacks DecompressionStream: Chrome 80, " +
      "Firefox 113 and Safari 16.4 have it); tables/scenarios.csv lists every scenario's states.");
  } else {
    inflate(data.explorer).then(function (text) {
      var d = JSON.parse(text);
      if (d.format !== FORMAT) { throw new Error("unknown layout " + d.format); }
      explorer(d);
    }).catch(function (err) {
      fail("The transcripts could not be unpacked: " + err);
    });
  }
})();
