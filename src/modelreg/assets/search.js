/* modelreg search, in the browser: the grammar of src/modelreg/search.py and
 * src/modelreg/timespec.py, rule for rule, so the site's search box and `modelreg search`
 * give the same rows and the same one-line errors (tests/search_cases.json holds both to it).
 *
 *   modelregSearch("accuracy>=0.9 label=tabular", rows) -> the matching rows, in order
 *
 * Rows are `modelreg search --json` rows.  A malformed expression throws Error(message).
 * Plain ES2019, no dependencies, no network: it works from file://.
 */
var modelregSearch = (function () {
  "use strict";

  var OPERATORS = ["!=", "<=", ">=", "=", "<", ">"];
  var ORDERING = ["<", "<=", ">", ">="];
  var FIELDS = ["model", "label", "stage", "author", "flavor", "registered"];
  var SPACES = " \t\n\r";
  var OPERATOR_CHARS = "=!<>";
  var NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  var INSTANT = new RegExp(
    "^([0-9]{4})-([0-9]{2})-([0-9]{2})" +
      "(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
  );
  var FORMS =
    "2026-11-20, 2026-11-20T10:02 or 2026-11-20T10:02:11 (UTC unless it ends in Z or +HH:MM)";
  var FORM = "write KEY OP VALUE with OP one of = != < <= > >= (e.g. accuracy>=0.9)";
  var QUOTED = 'a quoted value is the whole value (e.g. author="Ada Lovelace")';

  function has(list, item) {
    return list.indexOf(item) >= 0;
  }

  function own(object, key) {
    return object !== null && object !== undefined && Object.prototype.hasOwnProperty.call(object, key);
  }

  function bad(text, why) {
    return new Error("invalid search term '" + text + "': " + why);
  }

  function isNumber(text) {
    return NUMBER.test(text);
  }

  function daysIn(year, month) {
    var leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  }

  /* Seconds since the epoch, or null: timespec.epoch_seconds. */
  function epochSeconds(text) {
    var m = INSTANT.exec(text);
    if (m === null) return null;
    var year = +m[1], month = +m[2], day = +m[3];
    var hour = +(m[4] || 0), minute = +(m[5] || 0), second = +(m[6] || 0);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
    if (hour > 23 || minute > 59 || second > 59) return null;
    var offset = 0;
    var zone = m[7];
    if (zone && zone !== "Z") {
      var zoneHours = +zone.slice(1, 3), zoneMinutes = +zone.slice(4, 6);
      if (zoneHours > 23 || zoneMinutes > 59) return null;
      offset = (zoneHours * 60 + zoneMinutes) * 60 * (zone[0] === "-" ? -1 : 1);
    }
    // Date.UTC reads years 0-99 as 19xx: set the year on its own.
    var date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    return date.getTime() / 1000 - offset;
  }

  function tokens(expr) {
    var found = [];
    var current = "";
    var quoted = false;
    for (var i = 0; i < expr.length; i++) {
      var ch = expr[i];
      if (ch === '"') quoted = !quoted;
      if (SPACES.indexOf(ch) >= 0 && !quoted) {
        if (current) found.push(current);
        current = "";
      } else {
        current += ch;
      }
    }
    if (quoted) throw bad(current, "a quote is not closed");
    if (current) found.push(current);
    return found;
  }

  function split(text) {
    var at = -1;
    for (var i = 0; i < text.length; i++) {
      if (OPERATOR_CHARS.indexOf(text[i]) >= 0) {
        at = i;
        break;
      }
    }
    if (at < 0) throw bad(text, FORM);
    var op = has(OPERATORS, text.slice(at, at + 2)) ? text.slice(at, at + 2) : text[at];
    if (!has(OPERATORS, op)) throw bad(text, FORM);
    var key = text.slice(0, at);
    var raw = text.slice(at + op.length);
    if (!key) throw bad(text, "the name before '" + op + "' is missing: " + FORM);
    if (key.indexOf('"') >= 0) throw bad(text, "quotes go around a value, not a name: " + FORM);
    var value = raw;
    if (raw[0] === '"') {
      if (raw.length < 2 || raw[raw.length - 1] !== '"' || raw.slice(1, -1).indexOf('"') >= 0) {
        throw bad(text, QUOTED);
      }
      value = raw.slice(1, -1);
    } else if (raw.indexOf('"') >= 0) {
      throw bad(text, QUOTED);
    } else if (raw && OPERATOR_CHARS.indexOf(raw[0]) >= 0) {
      throw bad(text, "'" + raw + "' is not a value: one operator per term");
    }
    if (!value) throw bad(text, "the value after '" + op + "' is missing");
    return { text: text, key: key, op: op, value: value };
  }

  function checkSyntax(term) {
    var key = term.key;
    var prefixes = ["metric.", "param."];
    for (var i = 0; i < prefixes.length; i++) {
      if (key === prefixes[i]) throw bad(term.text, "the name after '" + key + "' is missing");
    }
    if (key.indexOf("metric.") === 0 && !isNumber(term.value)) {
      throw bad(
        term.text,
        "'" + term.value + "' is not a number: metric " + key.slice(7) + " compares with numbers"
      );
    }
    if (key === "registered") {
      if (epochSeconds(term.value) === null) {
        throw bad(term.text, "'" + term.value + "' is not a time: use " + FORMS);
      }
    } else if (has(FIELDS, key)) {
      if (has(ORDERING, term.op)) throw bad(term.text, key + " takes = or !=");
    } else if (has(ORDERING, term.op) && !isNumber(term.value)) {
      throw bad(term.text, "'" + term.value + "' is not a number: '" + term.op + "' compares numbers");
    }
  }

  function resolve(term, metricNames, paramNames) {
    var key = term.key;
    if (has(FIELDS, key)) return [key, key];
    if (key.indexOf("metric.") === 0) return ["metric", key.slice(7)];
    if (key.indexOf("param.") === 0) return ["param", key.slice(6)];
    var isMetric = own(metricNames, key), isParam = own(paramNames, key);
    if (isMetric && isParam) {
      throw bad(
        term.text,
        "'" + key + "' is both a metric and a param: write metric." + term.text +
          " or param." + term.text
      );
    }
    if (isMetric) {
      if (!isNumber(term.value)) {
        throw bad(
          term.text,
          "'" + term.value + "' is not a number: metric " + key + " compares with numbers"
        );
      }
      return ["metric", key];
    }
    if (isParam) return ["param", key];
    throw bad(term.text, "no version has a metric or param named '" + key + "': check the spelling");
  }

  function compare(op, a, b) {
    if (op === "=") return a === b;
    if (op === "!=") return a !== b;
    if (op === "<") return a < b;
    if (op === "<=") return a <= b;
    if (op === ">") return a > b;
    return a >= b;
  }

  function paramEquals(actual, value) {
    if (typeof actual === "boolean") return value.toLowerCase() === (actual ? "true" : "false");
    if (typeof actual === "number") return isNumber(value) && actual === Number(value);
    return actual === value;
  }

  function test(resolved, term) {
    var kind = resolved[0], name = resolved[1];
    var op = term.op, value = term.value;
    var negate = op === "!=";
    if (kind === "model") return function (row) { return (row.model === value) !== negate; };
    if (kind === "label") return function (row) { return has(row.labels, value) !== negate; };
    if (kind === "stage") return function (row) { return has(row.stages, value) !== negate; };
    if (kind === "flavor") return function (row) { return (row.flavor === value) !== negate; };
    if (kind === "author") {
      var needle = value.toLowerCase();
      return function (row) { return (row.author.toLowerCase().indexOf(needle) >= 0) !== negate; };
    }
    if (kind === "registered") {
      var when = epochSeconds(value);
      return function (row) { return compare(op, epochSeconds(row.registered_at), when); };
    }
    if (kind === "metric") {
      var number = Number(value);
      return function (row) {
        return own(row.metrics, name) && row.metrics[name] !== null &&
          compare(op, Number(row.metrics[name]), number);
      };
    }
    return function (row) {
      // A version without the param matches neither = nor !=: there is nothing to compare.
      if (!own(row.params, name)) return false;
      var actual = row.params[name];
      if (has(ORDERING, op)) return typeof actual === "number" && compare(op, actual, Number(value));
      return paramEquals(actual, value) !== negate;
    };
  }

  return function modelregSearch(expr, rows) {
    var terms = tokens(expr).map(split);
    terms.forEach(checkSyntax);
    var metricNames = Object.create(null), paramNames = Object.create(null);
    rows.forEach(function (row) {
      Object.keys(row.metrics || {}).forEach(function (k) { metricNames[k] = true; });
      Object.keys(row.params || {}).forEach(function (k) { paramNames[k] = true; });
    });
    var tests = terms.map(function (term) {
      return test(resolve(term, metricNames, paramNames), term);
    });
    return rows.filter(function (row) {
      return tests.every(function (t) { return t(row); });
    });
  };
})();

if (typeof module !== "undefined" && module.exports) {
  module.exports = modelregSearch;
}
