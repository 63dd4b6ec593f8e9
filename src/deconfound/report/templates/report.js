// deconfound report: the transcript explorer. Its rows arrive as gzip + base64 blocks in an
// inert element (layout: deconfound/report/explorer_data.py): an index for the filters, then
// chunks of transcripts. The browser's own DecompressionStream unpacks the index and the chunks
// of the page on screen first, then the others one short task at a time; only one page of rows
// is ever built, so a report of 100,000 responses opens as fast as a small one. Text is only
// ever inserted with textContent (never innerHTML), so nothing from a model or judge can run.
(function () {
  "use strict";
  var FORMAT = "deconfound-explorer/2";
  // A page holds up to 400 responses or 200,000 characters of response text, whichever comes
  // first (a scenario is never split): long answers make a slow page to lay out.
  var PAGE_RESPONSES = 400;
  var PAGE_CHARS = 200000;
  var dataNode = document.getElementById("report-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : { transitions: [] };
  var blockNode = document.getElementById("explorer-data");
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
    if (!status.isConnected) { tbody.replaceChildren(status.parentNode); }
    tbody.dataset.state = "error";
  }

  function bytesOf(b64) {
    if (typeof Uint8Array.fromBase64 === "function") { return Uint8Array.fromBase64(b64); }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i += 1) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function unpack(b64) {
    var gunzip = new DecompressionStream("gzip");
    return new Response(new Blob([bytesOf(b64)]).stream().pipeThrough(gunzip)).text()
      .then(function (text) {
        var block = JSON.parse(text);
        if (block.format !== FORMAT) { throw new Error("unknown layout " + block.format); }
        return block;
      });
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

  function explorer(ix, text, parts) {
    var S = ix.strings;
    var sc = ix.scenarios;
    var nScen = sc.id.length;
    var chunkOf = new Int32Array(nScen);
    var firstScen = offsets(ix.chunks);
    ix.chunks.forEach(function (n, c) { chunkOf.fill(c, firstScen[c], firstScen[c + 1]); });
    var tokens = sc.tokens.map(function (i) { return i < 0 ? [] : S[i].split(" "); });
    var chunks = new Array(parts.length); // unpacked chunks
    var pending = new Array(parts.length); // their promises
    var unpacked = 0;
    var allDone;
    var everything = new Promise(function (resolve) { allDone = resolve; });
    var shown = [];
    var pages = [0];
    var page = 0;
    var drawing = 0; // the latest show() call; older asynchronous ones give way
    var filtering = 0; // the latest apply() call, likewise

    function prepare(d, c) {
      var C = d.strings;
      var rs = d.responses;
      var lb = d.labels;
      var base = firstScen[c];
      d.firstResp = offsets(sc.n.slice(base, firstScen[c + 1]));
      d.firstLab = offsets(rs.n);
      d.hay = []; // lower-cased text of each scenario, for the search box
      for (var k = 0; k < ix.chunks[c]; k += 1) {
        var s = base + k;
        var parts = [S[sc.id[s]], S[sc.category[s]]];
        if (sc.source[s] >= 0) { parts.push(S[sc.source[s]]); }
        sc.transitions[s].forEach(function (i) { parts.push(S[i]); });
        d.prompts[k].forEach(function (pair) { parts.push(C[pair[1]]); });
        for (var r = d.firstResp[k]; r < d.firstResp[k + 1]; r += 1) {
          parts.push(ix.state_labels[C[rs.state[r]]] || C[rs.state[r]]);
          rs.conflict[r].forEach(function (i) { parts.push(C[i]); });
          if (rs.text[r] >= 0) { parts.push(C[rs.text[r]]); }
          for (var j = d.firstLab[r]; j < d.firstLab[r + 1]; j += 1) {
            [lb.judge[j], lb.version[j], lb.role[j], lb.summary[j], lb.evidence[j],
              lb.explanation[j]].forEach(function (i) { if (i >= 0) { parts.push(C[i]); } });
          }
        }
        d.hay.push(parts.join("\n").toLowerCase());
      }
      return d;
    }

    function load(c) {
      if (!pending[c]) {
        pending[c] = unpack(text.slice(parts[c][0], parts[c][1])).then(function (d) {
          chunks[c] = prepare(d, c);
          unpacked += 1;
          return d;
        });
      }
      return pending[c];
    }

    function loadRest(c) { // one chunk per task, so input events get their turn in between
      if (c >= parts.length) {
        tbody.dataset.loaded = "all";
        if (window.performance && performance.mark) { performance.mark("explorer-loaded"); }
        allDone();
        return;
      }
      load(c).then(function () { setTimeout(function () { loadRest(c + 1); }, 0); })
        .catch(function (err) { fail("The transcripts could not be unpacked: " + err); });
    }

    function labelItem(d, j) {
      var C = d.strings;
      var lb = d.labels;
      var li = el("li");
      li.appendChild(el("span", "judge", C[lb.judge[j]]));
      if (lb.version[j] >= 0) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "note", "(" + C[lb.version[j]] + ")"));
      }
      if (lb.role[j] >= 0) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "role", "[" + C[lb.role[j]] + "]"));
      }
      li.appendChild(document.createTextNode(": " + C[lb.summary[j]]));
      if (lb.evidence[j] >= 0) { li.appendChild(el("blockquote", "evidence", C[lb.evidence[j]])); }
      if (lb.explanation[j] >= 0) {
        var why = el("details");
        why.appendChild(el("summary", null, "reason"));
        why.appendChild(el("div", "note", C[lb.explanation[j]]));
        li.appendChild(why);
      }
      return li;
    }

    function response(d, r, inCell) {
      var C = d.strings;
      var rs = d.responses;
      var box = el("div", "response");
      var state = C[rs.state[r]];
      box.appendChild(el("span", "badge " + state, ix.state_labels[state] || state));
      if (rs.epoch[r] !== 1 || inCell > 1) {
        box.appendChild(document.createTextNode(" "));
        box.appendChild(el("span", "note", "epoch " + rs.epoch[r]));
      }
      if (C[rs.status[r]] !== "ok") {
        box.appendChild(document.createTextNode(" "));
        box.appendChild(el("span", "note", "response " + C[rs.status[r]]));
      }
      rs.conflict[r].forEach(function (i) { box.appendChild(el("div", "badge conflict", C[i])); });
      var list = el("ul", "labels");
      for (var j = d.firstLab[r]; j < d.firstLab[r + 1]; j += 1) { list.appendChild(labelItem(d, j)); }
      box.appendChild(list);
      box.appendChild(rs.text[r] < 0 ? el("p", "note", "no response text")
        : el("pre", "text", C[rs.text[r]]));
      return box;
    }

    function row(s) {
      var c = chunkOf[s];
      var d = chunks[c];
      var k = s - firstScen[c];
      var tr = el("tr", "scenario");
      var sid = S[sc.id[s]];
      tr.id = "scenario-" + sid;
      tr.dataset.scenario = sid;
      tr.dataset.category = S[sc.category[s]];
      tr.dataset.transitions = tokens[s].join(" ");
      tr.dataset.conflict = sc.conflict[s] ? "1" : "0";
      var head = el("td", "scen");
      head.appendChild(el("div", "sid", sid));
      var source = sc.source[s] >= 0 ? S[sc.source[s]] : "";
      head.appendChild(el("div", "note", S[sc.category[s]] + (source ? " · " + source : "")));
      sc.transitions[s].forEach(function (i) { head.appendChild(el("div", "note", S[i])); });
      if (sc.conflict[s]) { head.appendChild(el("span", "badge conflict", "judges disagree")); }
      if (d.prompts[k].length) {
        var prompt = el("details");
        prompt.appendChild(el("summary", null, "scenario prompt"));
        d.prompts[k].forEach(function (pair) {
          if (pair[0] >= 0) { prompt.appendChild(el("div", "note", d.strings[pair[0]])); }
          prompt.appendChild(el("pre", "prompt", d.strings[pair[1]]));
        });
        head.appendChild(prompt);
      }
      tr.appendChild(head);
      var cells = ix.conditions.map(function () { return []; });
      for (var r = d.firstResp[k]; r < d.firstResp[k + 1]; r += 1) {
        cells[d.responses.condition[r]].push(r);
      }
      ix.conditions.forEach(function (name, i) {
        var cell = el("td", "cell");
        cell.dataset.condition = name;
        if (!cells[i].length) { cell.appendChild(el("p", "note", "no response under this condition")); }
        cells[i].forEach(function (r) { cell.appendChild(response(d, r, cells[i].length)); });
        tr.appendChild(cell);
      });
      return tr;
    }

    function show(p) {
      var mine = ++drawing;
      var end = p + 1 < pages.length ? pages[p + 1] : shown.length;
      var need = [];
      for (var i = pages[p]; i < end; i += 1) {
        var c = chunkOf[shown[i]];
        if (!chunks[c] && need.indexOf(c) < 0) { need.push(c); }
      }
      if (need.length) { // unpack what this page shows first, then draw it (unless superseded)
        pageText.textContent = "unpacking…";
        Promise.all(need.map(load)).then(function () { if (mine === drawing) { show(p); } })
          .catch(function (err) { fail("The transcripts could not be unpacked: " + err); });
        return;
      }
      page = p;
      var rows = document.createDocumentFragment();
      for (var j = pages[p]; j < end; j += 1) { rows.appendChild(row(shown[j])); }
      if (!shown.length) {
        var none = el("tr");
        var cell = el("td", "note", "No scenario matches the filters.");
        cell.colSpan = ix.conditions.length + 1;
        none.appendChild(cell);
        rows.appendChild(none);
      }
      tbody.replaceChildren(rows);
      pageText.textContent = shown.length ? "page " + (p + 1) + " of " + pages.length +
        " (scenarios " + (pages[p] + 1) + "–" + end + ")" : "";
      prev.disabled = p === 0;
      next.disabled = p + 1 >= pages.length;
      if (!tbody.dataset.state) {
        tbody.dataset.state = "ready";
        if (window.performance && performance.mark) { performance.mark("explorer-ready"); }
        setTimeout(function () { loadRest(0); }, 0);
      }
    }

    function paginate() {
      pages = [0];
      var used = 0;
      var chars = 0;
      shown.forEach(function (s, i) {
        if (used > 0 && (used + sc.n[s] > PAGE_RESPONSES || chars + sc.chars[s] > PAGE_CHARS)) {
          pages.push(i);
          used = 0;
          chars = 0;
        }
        used += sc.n[s];
        chars += sc.chars[s];
      });
    }

    function apply() {
      var mine = ++filtering;
      var needle = search.value.trim().toLowerCase();
      if (needle && unpacked < parts.length) { // search needs every transcript: wait for them
        count.textContent = "searching… (" + unpacked + " of " + parts.length +
          " parts of the transcripts unpacked)";
        everything.then(function () { if (mine === filtering) { apply(); } });
        return;
      }
      var found = [];
      var s = 0;
      function step() { // in slices of ~40 ms, so typing never waits on a search of every text
        if (mine !== filtering) { return; }
        var stop = Date.now() + 40;
        for (; s < nScen; s += 1) {
          if (s > 0 && (s & 255) === 0 && Date.now() > stop) {
            count.textContent = "searching…";
            setTimeout(step, 0);
            return;
          }
          if (category.value && S[sc.category[s]] !== category.value) { continue; }
          if (transition.value && tokens[s].indexOf(transition.value) < 0) { continue; }
          if (conflict.checked && !sc.conflict[s]) { continue; }
          if (needle && chunks[chunkOf[s]].hay[s - firstScen[chunkOf[s]]].indexOf(needle) < 0) {
            continue;
          }
          found.push(s);
        }
        shown = found;
        paginate();
        count.textContent = shown.length + " of " + nScen + " scenarios shown";
        show(0);
      }
      step();
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
  }

  if (!blockNode) {
    fail("This report carries no transcripts.");
  } else if (typeof DecompressionStream === "undefined") {
    fail("This browser cannot unpack the transcripts (it lacks DecompressionStream: Chrome 80, " +
      "Firefox 113 and Safari 16.4 have it); tables/scenarios.csv lists every scenario's states.");
  } else {
    var text = blockNode.textContent;
    var parts = [];
    for (var at = 0; at <= text.length;) { // blocks are joined by "." (never in base64)
      var dot = text.indexOf(".", at);
      var end = dot < 0 ? text.length : dot;
      parts.push([at, end]);
      at = end + 1;
    }
    unpack(text.slice(parts[0][0], parts[0][1])).then(function (index) {
      explorer(index, text, parts.slice(1));
    }).catch(function (err) {
      fail("The transcripts could not be unpacked: " + err);
    });
  }
})();
