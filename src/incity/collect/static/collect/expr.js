// Evaluates the expression trees the server parsed (incity/collect/runtime.py) with the
// semantics of incity/surveys/expressions.py: XPath 1.0 with ODK's extensions. Values are
// strings, numbers, booleans or node-sets (arrays of strings). Kept in step with the Python
// engine by the parity test in tests/browser/test_collect.py.

export class ExprError extends Error {}

const NUMBER = /^[ \t\r\n]*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))[ \t\r\n]*$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const DATETIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$/;
const DAY_MS = 86400000;

function parseDate(text) {
  const m = DATE.exec(text.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    return null;
  }
  return ms;
}

function parseDateTime(text) {
  const m = DATETIME.exec(text.trim());
  if (!m) return null;
  let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) +
    (m[7] ? Math.round(Number(m[7]) * 1000) : 0);
  if (m[8] && m[8] !== "Z") {
    const sign = m[8][0] === "-" ? -1 : 1;
    const digits = m[8].slice(1).replace(":", "");
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
  }
  return Number.isNaN(ms) ? null : ms;
}

function stringToNumber(text) {
  const m = NUMBER.exec(text);
  if (m) return parseFloat(m[1]);
  if (text.length >= 10 && text[4] === "-") {
    const date = parseDate(text);
    if (date !== null) return date / DAY_MS;
    const moment = parseDateTime(text);
    if (moment !== null) return moment / DAY_MS;
  }
  return NaN;
}

export function toNumber(value) {
  if (value === true) return 1;
  if (value === false) return 0;
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.length ? stringToNumber(value[0]) : NaN;
  if (typeof value === "string") return stringToNumber(value);
  return NaN;
}

function expandExponent(text) {
  // '1e-7' -> '0.0000001', '1.5e+21' -> '1500000000000000000000' (XPath has no exponents).
  const [mantissa, exponentText] = text.split("e");
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith("-");
  const [whole, fraction = ""] = mantissa.replace("-", "").split(".");
  const digits = whole + fraction;
  let point = whole.length + exponent;
  let out;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  out = out.replace(/^0+(?=\d)/, "");
  return (negative ? "-" : "") + out;
}

export function numberToString(number) {
  if (Number.isNaN(number)) return "NaN";
  if (number === Infinity) return "Infinity";
  if (number === -Infinity) return "-Infinity";
  if (Number.isInteger(number) && Math.abs(number) < 1e15) return String(number === 0 ? 0 : number);
  const text = String(number);
  return text.includes("e") ? expandExponent(text) : text;
}

export function toString(value) {
  if (typeof value === "string") return value;
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return numberToString(value);
  if (Array.isArray(value)) return value.length ? value[0] : "";
  return "";
}

export function truthy(value) {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return !(value === 0 || Number.isNaN(value));
  if (Array.isArray(value)) return value.length === 1 ? value[0] !== "" : value.length > 0;
  if (typeof value === "string") return value !== "";
  return Boolean(value);
}

function geoPosition(position) {
  if (!Array.isArray(position) || position.length < 2) return "";
  const [lon, lat] = position;
  const alt = position.length > 2 ? position[2] : 0;
  return [lat, lon, alt, 0].map((part) => numberToString(Number(part))).join(" ");
}

function geoString(value) {
  const coordinates = value.coordinates;
  if (value.type === "Point") return geoPosition(coordinates);
  if (value.type === "LineString" && Array.isArray(coordinates)) {
    return coordinates.map(geoPosition).join(";");
  }
  if (value.type === "Polygon" && Array.isArray(coordinates) && coordinates.length) {
    return Array.isArray(coordinates[0]) ? coordinates[0].map(geoPosition).join(";") : "";
  }
  return "";
}

// The string an answer stands for (as ODK writes it in the XML); see expressions.node_string.
export function nodeString(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return numberToString(value);
  if (Array.isArray(value)) {
    return value.filter((item) => item === null || typeof item !== "object")
      .map(nodeString).join(" ");
  }
  if (typeof value === "object") return geoString(value);
  return "";
}

function nodesOf(value) {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length && value[0] && typeof value[0] === "object") {
    return value.map((item) =>
      item && typeof item === "object" && typeof item.category === "string" ? item.category : "");
  }
  return [nodeString(value)];
}

// What an expression sees: answers (groups transparent, a repeat a list of objects),
// `repeats` (element name -> the repeats containing it, outermost first), `scope`
// ([[repeat, 0-based index], ...]), `current` (the value '.' is), `row` (the choice
// being filtered), `label(value, question)` for jr:choice-name, `now` (a Date).
export class Context {
  constructor({ answers = {}, repeats = {}, scope = [], current = null, row = null,
    label = null, now = null } = {}) {
    Object.assign(this, { answers, repeats, scope, current, row, label, now });
  }

  derive(changes) {
    return new Context({ ...this, ...changes });
  }

  resolve(name) {
    const path = this.repeats[name];
    if (!path || !path.length) return nodesOf(this.answers[name]);
    let containers = [this.answers];
    let matched = true;
    path.forEach((repeat, depth) => {
      const found = [];
      if (matched && depth < this.scope.length && this.scope[depth][0] === repeat) {
        const index = this.scope[depth][1];
        for (const container of containers) {
          const items = container[repeat];
          if (Array.isArray(items) && index >= 0 && index < items.length &&
              items[index] && typeof items[index] === "object") {
            found.push(items[index]);
          }
        }
      } else {
        matched = false;
        for (const container of containers) {
          const items = container[repeat];
          if (Array.isArray(items)) {
            found.push(...items.filter((item) => item && typeof item === "object"));
          }
        }
      }
      containers = found;
    });
    if (matched) return containers.length ? nodesOf(containers[0][name]) : [];
    return containers.flatMap((container) => nodesOf(container[name]));
  }

  dot() {
    return [nodeString(this.current)];
  }

  bare(name) {
    if (!this.row || !(name in this.row)) return [];
    return [nodeString(this.row[name])];
  }

  position(repeat = null) {
    for (let i = this.scope.length - 1; i >= 0; i -= 1) {
      if (repeat === null || this.scope[i][0] === repeat) return this.scope[i][1] + 1;
    }
    return NaN;
  }

  today() {
    const now = this.now || new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }
}

function compareAtoms(op, a, b) {
  if (op === "=" || op === "!=") {
    let same;
    if (typeof a === "boolean" || typeof b === "boolean") same = truthy(a) === truthy(b);
    else if (typeof a === "number" || typeof b === "number") same = toNumber(a) === toNumber(b);
    else same = a === b;
    return op === "=" ? same : !same;
  }
  const x = toNumber(a);
  const y = toNumber(b);
  if (op === "<") return x < y;
  if (op === "<=") return x <= y;
  if (op === ">") return x > y;
  return x >= y;
}

function compare(op, a, b) {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return a.some((x) => b.some((y) => compareAtoms(op, x, y)));
    if (typeof b === "boolean") return compareAtoms(op, truthy(a), b);
    return a.some((x) => compareAtoms(op, x, b));
  }
  if (Array.isArray(b)) {
    if (typeof a === "boolean") return compareAtoms(op, a, truthy(b));
    return b.some((y) => compareAtoms(op, a, y));
  }
  return compareAtoms(op, a, b);
}

const OPERATORS = {
  "+": (a, b) => toNumber(a) + toNumber(b),
  "-": (a, b) => toNumber(a) - toNumber(b),
  "*": (a, b) => toNumber(a) * toNumber(b),
  div: (a, b) => toNumber(a) / toNumber(b),
  mod: (a, b) => toNumber(a) % toNumber(b),
};
for (const op of ["=", "!=", "<", "<=", ">", ">="]) OPERATORS[op] = (a, b) => compare(op, a, b);

const words = (value) => toString(value).split(/\s+/).filter(Boolean);
const xpathRound = (n) => (Number.isFinite(n) ? Math.floor(n + 0.5) : n);
const argOrDot = (ctx, args) => toString(args.length ? args[0] : ctx.dot());
const nodesAndValues = (args) => args.flatMap((arg) => (Array.isArray(arg) ? arg : [toString(arg)]));
const numbersOf = (args) =>
  args.flatMap((arg) => (Array.isArray(arg) ? arg.map(stringToNumber) : [toNumber(arg)]));

function questionName(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("${") && trimmed.endsWith("}")) return trimmed.slice(2, -1).trim();
  return trimmed.replace(/\/+$/, "").split("/").pop();
}

function roundTo(number, places) {
  if (!Number.isFinite(number)) return number;
  if (places === undefined) return xpathRound(number);
  if (!Number.isFinite(places)) return NaN;
  const digits = Math.trunc(places);
  const sign = number < 0 ? -1 : 1;
  // Half away from zero on the decimal digits, as Python's Decimal ROUND_HALF_UP.
  const shifted = Math.round(Number(`${Math.abs(number)}e${digits}`));
  return sign * Number(`${shifted}e${-digits}`);
}

function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function dateOf(value) {
  if (typeof value === "number") return Number.isFinite(value) ? Math.floor(value) * DAY_MS : null;
  const text = toString(value);
  const date = parseDate(text);
  if (date !== null) return date;
  const moment = parseDateTime(text);
  if (moment !== null) return Math.floor(moment / DAY_MS) * DAY_MS;
  const number = stringToNumber(text);
  return Number.isNaN(number) ? null : dateOf(number);
}

// Functions whose arguments are evaluated first; `if`, `coalesce`, `position` and
// `indexed-repeat` are special forms (see evaluate()).
const FUNCTIONS = {
  true: () => true,
  false: () => false,
  boolean: (ctx, [a]) => truthy(a),
  not: (ctx, [a]) => !truthy(a),
  "boolean-from-string": (ctx, [a]) => ["true", "1"].includes(toString(a).trim()),
  once: (ctx, [a]) => a,
  selected: (ctx, [a, b]) => words(a).includes(toString(b).trim()),
  "count-selected": (ctx, [a]) => words(a).length,
  "selected-at": (ctx, [a, b]) => {
    const index = toNumber(b);
    const list = words(a);
    if (!Number.isFinite(index)) return "";
    const position = Math.floor(index);
    return position >= 0 && position < list.length ? list[position] : "";
  },
  "jr:choice-name": (ctx, [value, question]) => {
    const name = toString(value);
    return ctx.label ? ctx.label(name, questionName(toString(question))) : name;
  },
  count: (ctx, [a]) => (Array.isArray(a) ? a.length : 1),
  "count-non-empty": (ctx, [a]) =>
    (Array.isArray(a) ? a.filter((node) => node !== "").length : (toString(a) ? 1 : 0)),
  sum: (ctx, args) => {
    const numbers = numbersOf(args);
    return numbers.some(Number.isNaN) ? NaN : numbers.reduce((total, n) => total + n, 0);
  },
  min: (ctx, args) => {
    const numbers = numbersOf(args);
    return !numbers.length || numbers.some(Number.isNaN) ? NaN : Math.min(...numbers);
  },
  max: (ctx, args) => {
    const numbers = numbersOf(args);
    return !numbers.length || numbers.some(Number.isNaN) ? NaN : Math.max(...numbers);
  },
  join: (ctx, [separator, ...rest]) => nodesAndValues(rest).join(toString(separator)),
  string: (ctx, args) => argOrDot(ctx, args),
  "string-length": (ctx, args) => [...argOrDot(ctx, args)].length,
  "normalize-space": (ctx, args) => argOrDot(ctx, args).replace(/[ \t\r\n]+/g, " ").trim(),
  concat: (ctx, args) => nodesAndValues(args).join(""),
  contains: (ctx, [a, b]) => toString(a).includes(toString(b)),
  "starts-with": (ctx, [a, b]) => toString(a).startsWith(toString(b)),
  "ends-with": (ctx, [a, b]) => toString(a).endsWith(toString(b)),
  "substring-before": (ctx, [a, b]) => {
    const text = toString(a);
    const found = text.indexOf(toString(b));
    return found >= 0 ? text.slice(0, found) : "";
  },
  "substring-after": (ctx, [a, b]) => {
    const text = toString(a);
    const target = toString(b);
    const found = text.indexOf(target);
    return found >= 0 ? text.slice(found + target.length) : "";
  },
  regex: (ctx, [value, pattern]) => {
    let compiled;
    try {
      compiled = new RegExp(toString(pattern), "u");
    } catch (error) {
      throw new ExprError(`invalid regular expression ${toString(pattern)}`);
    }
    return compiled.test(toString(value));
  },
  number: (ctx, args) => toNumber(args.length ? args[0] : ctx.dot()),
  int: (ctx, [a]) => {
    const n = toNumber(a);
    return Number.isFinite(n) ? Math.trunc(n) : n;
  },
  round: (ctx, [a, places]) => roundTo(toNumber(a), places === undefined ? undefined : toNumber(places)),
  floor: (ctx, [a]) => Math.floor(toNumber(a)),
  ceiling: (ctx, [a]) => Math.ceil(toNumber(a)),
  abs: (ctx, [a]) => Math.abs(toNumber(a)),
  pow: (ctx, [a, b]) => Math.pow(toNumber(a), toNumber(b)),
  sqrt: (ctx, [a]) => Math.sqrt(toNumber(a)),
  pi: () => Math.PI,
  random: () => Math.random(),
  uuid: () => (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)),
  today: (ctx) => ctx.today(),
  now: (ctx) => (ctx.now || new Date()).toISOString(),
  date: (ctx, [a]) => {
    const ms = dateOf(a);
    return ms === null ? "" : isoDate(ms);
  },
  "decimal-date-time": (ctx, [a]) => {
    if (typeof a === "number") return a;
    const text = toString(a);
    const moment = parseDateTime(text) ?? parseDate(text);
    return moment === null ? NaN : moment / DAY_MS;
  },
};

export const SUPPORTED = new Set([...Object.keys(FUNCTIONS), "if", "coalesce", "position",
  "indexed-repeat"]);

function nodeName(node) {
  return node && (node.t === "ref" || node.t === "bare") ? node.n : null;
}

export function evaluate(node, ctx) {
  switch (node.t) {
    case "lit": return node.v;
    case "ref": return ctx.resolve(node.n);
    case "cur": return ctx.dot();
    case "par": return [];
    case "bare": return ctx.bare(node.n);
    case "neg": {
      const value = toNumber(evaluate(node.e, ctx));
      return node.c % 2 ? -value : value;
    }
    case "or": return node.a.some((item) => truthy(evaluate(item, ctx)));
    case "and": return node.a.every((item) => truthy(evaluate(item, ctx)));
    case "union": return node.a.flatMap((item) => {
      const value = evaluate(item, ctx);
      if (!Array.isArray(value)) throw new ExprError("'|' joins references to questions only");
      return value;
    });
    case "chain": {
      let value = evaluate(node.e, ctx);
      for (const [op, operand] of node.r) value = OPERATORS[op](value, evaluate(operand, ctx));
      return value;
    }
    case "call": return call(node, ctx);
    case "error": throw new ExprError(node.m);
    default: throw new ExprError(`unknown expression node ${node.t}`);
  }
}

function call(node, ctx) {
  const name = node.f;
  const args = node.a;
  if (name === "if") {
    return truthy(evaluate(args[0], ctx)) ? evaluate(args[1], ctx) : evaluate(args[2], ctx);
  }
  if (name === "coalesce") {
    for (const arg of args) {
      const value = evaluate(arg, ctx);
      if (toString(value) !== "") return value;
    }
    return "";
  }
  if (name === "position") {
    if (!args.length || args[0].t === "par" || args[0].t === "cur") return ctx.position();
    const repeat = nodeName(args[0]);
    return repeat === null ? NaN : ctx.position(repeat);
  }
  if (name === "indexed-repeat") {
    const scope = [];
    for (let i = 1; i + 1 < args.length; i += 2) {
      const index = toNumber(evaluate(args[i + 1], ctx));
      if (!Number.isFinite(index)) return [];
      scope.push([nodeName(args[i]), Math.trunc(index) - 1]);
    }
    return ctx.derive({ scope }).resolve(nodeName(args[0]));
  }
  const impl = FUNCTIONS[name];
  if (!impl) throw new ExprError(`${name}() is not available in the app`);
  return impl(ctx, args.map((arg) => evaluate(arg, ctx)));
}
