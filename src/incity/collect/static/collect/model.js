// The answers being collected and the form's rules over them: relevance, required,
// constraints, choice filters, repeat counts and calculations, with the same meaning as the
// server's validation (incity/surveys/validation.py), so what the app accepts the server does.

import { Context, ExprError, evaluate, toNumber, toString, truthy } from "./expr.js";

export const INPUT_TYPES = new Set([
  "text", "integer", "decimal", "range", "select_one", "select_multiple", "rank", "date", "time",
  "datetime", "geopoint", "geotrace", "geoshape", "map_marks", "barcode", "acknowledge", "image",
  "audio", "video", "file", "select_one_from_file", "select_multiple_from_file",
]);
export const MAP_TYPES = new Set(["geopoint", "geotrace", "geoshape", "map_marks"]);
const REQUIRED_WORDS = new Set(["yes", "true", "true()", "1"]);
const NOT_REQUIRED_WORDS = new Set(["", "no", "false", "false()", "0"]);

export function textIn(texts, language, fallback) {
  if (!texts) return "";
  if (texts[language]) return texts[language];
  if (fallback && texts[fallback]) return texts[fallback];
  return Object.values(texts).find(Boolean) || "";
}

export function isEmpty(value) {
  return value === undefined || value === null || value === "" ||
    (Array.isArray(value) && value.length === 0);
}

export class FormModel {
  constructor(runtime) {
    this.runtime = runtime;
    this.definition = runtime.definition;
    this.trees = runtime.expressions;
    this.fallback = runtime.default_language;
    this.language = runtime.default_language;
    this.repeats = {};
    this.conditions = {};
    this.elements = {};
    this.calculates = [];
    this.answers = {};
    this.walk(this.definition.children, [], []);
  }

  walk(elements, repeats, conditions) {
    for (const element of elements) {
      const relevant = (element.relevant || "").trim();
      const own = relevant ? [...conditions, relevant] : conditions;
      this.repeats[element.name] = repeats;
      this.conditions[element.name] = own;
      this.elements[element.name] = element;
      if (element.type === "calculate") this.calculates.push(element);
      if (element.type === "group") this.walk(element.children || [], repeats, own);
      if (element.type === "repeat") {
        this.walk(element.children || [], [...repeats, element.name], own);
      }
    }
  }

  text(texts) {
    return textIn(texts, this.language, this.fallback);
  }

  context(scope, extra = {}) {
    return new Context({
      answers: this.answers,
      repeats: this.repeats,
      scope,
      label: (value, question) => this.choiceLabel(value, question),
      ...extra,
    });
  }

  value(expression, scope, extra = {}) {
    const tree = this.trees[expression.trim()];
    if (!tree) throw new ExprError(`expression not prepared: ${expression}`);
    return evaluate(tree, this.context(scope, extra));
  }

  // A rule that cannot be evaluated here neither hides a question nor blocks the person:
  // the server judges it again on arrival.
  test(expression, scope, extra = {}, fallback = true) {
    try {
      return truthy(this.value(expression, scope, extra));
    } catch (error) {
      return fallback;
    }
  }

  applies(element, scope) {
    return (this.conditions[element.name] || []).every((rule) => this.test(rule, scope));
  }

  isRequired(element, scope) {
    const required = element.required;
    if (typeof required === "boolean") return required;
    if (typeof required !== "string") return Boolean(required);
    const word = required.trim().toLowerCase();
    if (REQUIRED_WORDS.has(word)) return true;
    if (NOT_REQUIRED_WORDS.has(word)) return false;
    return this.test(required, scope, {}, false);
  }

  meetsConstraint(element, scope, value) {
    const rule = (element.constraint || "").trim();
    if (!rule || isEmpty(value)) return true;
    return this.test(rule, scope, { current: value }, true);
  }

  container(scope) {
    let data = this.answers;
    for (const [repeat, index] of scope) {
      const entries = data[repeat];
      if (!Array.isArray(entries) || !entries[index]) return {};
      data = entries[index];
    }
    return data;
  }

  get(element, scope) {
    return this.container(scope)[element.name];
  }

  set(element, scope, value) {
    const data = this.container(scope);
    if (isEmpty(value)) delete data[element.name];
    else data[element.name] = value;
  }

  choices(element) {
    return this.definition.choices[element.list_name] || [];
  }

  row(choice) {
    const row = {};
    for (const [key, value] of Object.entries(choice.extra || {})) {
      if (typeof value === "string") row[key] = value;
    }
    row.name = choice.name;
    if (!("label" in row)) row.label = textIn(choice.label, this.fallback, "");
    return row;
  }

  available(element, scope) {
    const choices = this.choices(element);
    const rule = (element.choice_filter || "").trim();
    if (!rule) return choices;
    return choices.filter((choice) => this.test(rule, scope, { row: this.row(choice) }, true));
  }

  choiceLabel(value, question) {
    const element = this.elements[question];
    const choice = element && this.choices(element).find((item) => item.name === value);
    return choice ? this.text(choice.label) || value : value;
  }

  entries(repeats) {
    let level = [[[], this.answers]];
    for (const repeat of repeats) {
      const deeper = [];
      for (const [scope, data] of level) {
        (Array.isArray(data[repeat]) ? data[repeat] : []).forEach((entry, index) => {
          if (entry && typeof entry === "object") deeper.push([[...scope, [repeat, index]], entry]);
        });
      }
      level = deeper;
    }
    return level;
  }

  repeatCount(element, scope) {
    const rule = (element.repeat_count || "").trim();
    if (!rule) return null;
    try {
      const wanted = toNumber(this.value(rule, scope));
      return Number.isFinite(wanted) ? Math.max(0, Math.trunc(wanted)) : null;
    } catch (error) {
      return null;
    }
  }

  // Calculations in document order, three rounds so that one using another settles.
  calculate() {
    for (let round = 0; round < 3; round += 1) {
      for (const element of this.calculates) {
        const rule = (element.calculation || "").trim();
        for (const [scope, data] of this.entries(this.repeats[element.name])) {
          if (!rule || !this.applies(element, scope)) {
            delete data[element.name];
            continue;
          }
          try {
            const value = toString(this.value(rule, scope));
            if (value === "") delete data[element.name];
            else data[element.name] = value;
          } catch (error) {
            delete data[element.name];
          }
        }
      }
    }
  }

  // The answers as the server wants them: only what applies, nothing empty.
  output() {
    this.calculate();
    return this.clean(this.definition.children, this.answers, []);
  }

  clean(elements, source, scope) {
    const out = {};
    for (const element of elements) {
      if (!this.applies(element, scope)) continue;
      if (element.type === "group") {
        Object.assign(out, this.clean(element.children || [], source, scope));
      } else if (element.type === "repeat") {
        const entries = Array.isArray(source[element.name]) ? source[element.name] : [];
        if (entries.length) {
          out[element.name] = entries.map((entry, index) =>
            this.clean(element.children || [], entry || {}, [...scope, [element.name, index]]));
        }
      } else if (element.type !== "note" && !isEmpty(source[element.name])) {
        out[element.name] = source[element.name];
      }
    }
    return out;
  }
}
