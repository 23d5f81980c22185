// modelreg site: sortable tables, the board filter, search and the compare form.
// No request leaves the page: everything it needs is in the page.  Values are put into the
// page with textContent and setAttribute only, never as HTML.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }

  function sortTable(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = rows.every(function (r) {
      var v = cellValue(r, index);
      return v === "" || v === "-" || !isNaN(Number(v));
    });
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index), c;
      if (numeric) {
        var nx = x === "" || x === "-" ? -Infinity : Number(x);
        var ny = y === "" || y === "-" ? -Infinity : Number(y);
        c = nx - ny;
      } else {
        c = x < y ? -1 : x > y ? 1 : 0;
      }
      return ascending ? c : -c;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortTable(table, index, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, index, th); }
      });
    });
  });

  // Overview: filter the board's rows by any text they show.
  var filter = document.getElementById("board-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      document.querySelectorAll("#board tbody tr").forEach(function (row) {
        var text = row.textContent.toLowerCase();
        row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
    });
  }

  // Overview: the search box opens the search page with the expression.
  var searchForm = document.getElementById("search-form");
  if (searchForm) {
    searchForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = searchForm.elements.q.value;
      window.location.href = searchForm.getAttribute("data-target") + "?q=" + encodeURIComponent(q);
    });
  }

  function versionHref(root, model, version) {
    return root + "models/" + model.split("/").map(encodeURIComponent).join("/") +
      "/-/" + encodeURIComponent(version) + "/index.html";
  }

  function modelHref(root, model) {
    return root + "models/" + model.split("/").map(encodeURIComponent).join("/") + "/index.html";
  }

  function cell(row, content, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    row.appendChild(td);
    return td;
  }

  function anchor(href, label) {
    var a = document.createElement("a");
    a.setAttribute("href", href);
    a.textContent = label;
    return a;
  }

  function describe(values) {
    return Object.keys(values).sort().map(function (k) { return k + "=" + values[k]; }).join(" ");
  }

  // Search page: the rows are in the page; modelregSearch (the shared grammar) filters them.
  var rowsBlock = document.getElementById("modelreg-rows");
  var searchPage = document.getElementById("search-page-form");
  if (rowsBlock && searchPage) {
    var rows = JSON.parse(rowsBlock.textContent);
    var root = searchPage.getAttribute("data-root");
    var input = searchPage.elements.q;
    var error = document.getElementById("search-error");
    var count = document.getElementById("search-count");
    var body = document.querySelector("#results tbody");
    var run = function (expr) {
      error.textContent = "";
      body.textContent = "";
      if (typeof window.modelregSearch !== "function") {
        error.textContent = "This modelreg has no search grammar (assets/search.js): " +
          "update modelreg, or use the overview and model pages.";
        count.textContent = "";
        return;
      }
      var found;
      try {
        found = window.modelregSearch(expr, rows);
      } catch (err) {
        error.textContent = err && err.message ? err.message : String(err);
        count.textContent = "";
        return;
      }
      count.textContent = found.length + " of " + rows.length + " versions";
      found.forEach(function (r) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-model", r.model);
        tr.setAttribute("data-version", r.version);
        cell(tr, anchor(modelHref(root, r.model), r.model));
        cell(tr, anchor(versionHref(root, r.model, r.version), r.version));
        cell(tr, r.registered_at);
        cell(tr, r.author);
        cell(tr, (r.stages || []).join(", "));
        cell(tr, (r.labels || []).join(", "));
        cell(tr, r.flavor || "");
        cell(tr, describe(r.metrics || {}));
        cell(tr, describe(r.params || {}));
        body.appendChild(tr);
      });
    };
    searchPage.addEventListener("submit", function (e) {
      e.preventDefault();
      run(input.value);
      try {
        history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
      } catch (ignored) { /* file:// may refuse: the results are shown anyway */ }
    });
    var initial = new URLSearchParams(window.location.search).get("q");
    if (initial !== null) {
      input.value = initial;
      run(initial);
    }
  }

  // Compare form: open the comparison of the two versions chosen.  `modelreg ui` has a page
  // for every pair; a static site holds, on version B's page, B against its predecessor and
  // against each current stage holder (data-static says which).
  document.querySelectorAll("form.compare-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var a = form.elements.a.value, b = form.elements.b.value;
      var note = form.querySelector(".compare-note");
      var base = form.getAttribute("data-base");
      note.textContent = "";
      if (a === b) {
        note.textContent = "Choose two different versions.";
        return;
      }
      if (!form.hasAttribute("data-static")) {
        window.location.href = base + encodeURIComponent(a + ".." + b) + "/index.html";
        return;
      }
      var known = JSON.parse(form.getAttribute("data-static"));
      if (known.previous[b] === a || known.holders.indexOf(a) >= 0) {
        window.location.href = base + encodeURIComponent(b) + "/index.html#from-" + encodeURIComponent(a);
        return;
      }
      note.textContent = "This static site compares each version with the one before it and " +
        "with the current stage holders; for " + a + " \u2192 " + b + " run `modelreg compare " +
        form.getAttribute("data-model") + " " + a + " " + b + "` or `modelreg ui`.";
    });
  });
})();
