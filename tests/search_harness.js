// Runs src/modelreg/assets/search.js as a browser would (a classic script defining a global)
// on {"rows": [...], "exprs": [...]} from stdin; prints one result per expression:
// {"match": [[model, version], ...]} or {"error": message}.
"use strict";
const fs = require("fs");
const vm = require("vm");

vm.runInThisContext(fs.readFileSync(process.argv[2], "utf8"), { filename: process.argv[2] });
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const results = input.exprs.map(function (expr) {
  try {
    // eslint-disable-next-line no-undef
    const rows = modelregSearch(expr, input.rows);
    return { match: rows.map(function (row) { return [row.model, row.version]; }) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : "not an Error: " + String(e) };
  }
});
process.stdout.write(JSON.stringify(results));
