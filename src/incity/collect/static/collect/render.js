// Draws one page of the form and reads it back: labels tied to inputs, fieldset and legend
// for choices, hints and error messages linked with aria-describedby, large touch targets.

import { toString } from "./expr.js";
import { INPUT_TYPES, MAP_TYPES, isEmpty } from "./model.js";

const INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL = /^[+-]?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)$/;
const UNSUPPORTED = new Set(["image", "audio", "video", "file", "rank",
  "select_one_from_file", "select_multiple_from_file"]);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const idFor = (path) => `q-${path.replace(/[^A-Za-z0-9_-]+/g, "-")}`;
const pathOf = (scope, name) =>
  scope.map(([repeat, index]) => `${repeat}[${index + 1}].`).join("") + name;

export class PageView {
  // app: { model, t, mapModule, runtimeMap, onChange(), onStructureChange(focusPath) }
  constructor(app) {
    this.app = app;
    this.fields = [];
    this.mounts = [];
  }

  destroy() {
    for (const mount of this.mounts) {
      try {
        mount.destroy();
      } catch (error) {
        // A map that fails to tear down must not stop the next page.
      }
    }
    this.mounts = [];
    this.fields = [];
  }

  render(elements, scope = []) {
    const box = el("div", { class: "elements" });
    for (const element of elements) {
      const node = this.element(element, scope);
      if (node) box.append(node);
    }
    return box;
  }

  label(element, scope) {
    const text = this.app.model.text(element.label) || element.name;
    // ${name} in a label shows that answer, as in ODK.
    return text.replace(/\$\{([^}]+)\}/g, (whole, name) =>
      toString(this.app.model.context(scope).resolve(name.trim())));
  }

  element(element, scope) {
    const { model } = this.app;
    if (element.type === "group") {
      const box = el("fieldset", { class: "group", "data-name": element.name },
        el("legend", { text: this.label(element, scope) }));
      box.append(this.render(element.children || [], scope));
      this.fields.push({ element, scope, wrapper: box, kind: "structure" });
      return box;
    }
    if (element.type === "repeat") return this.repeat(element, scope);
    if (element.type === "note") {
      const note = el("p", { class: "note", "data-name": element.name, text: this.label(element, scope) });
      this.fields.push({ element, scope, wrapper: note, kind: "note" });
      return note;
    }
    if (!INPUT_TYPES.has(element.type)) return null;
    if (element.read_only) return null;
    const path = pathOf(scope, element.name);
    const field = { element, scope, path, id: idFor(path), kind: "input", raw: null };
    const hintText = model.text(element.hint);
    const hint = hintText ? el("p", { class: "hint", id: `${field.id}-hint`, text: hintText }) : null;
    const error = el("p", { class: "error", id: `${field.id}-error`, hidden: true });
    field.error = error;
    field.describedBy = [hint ? hint.id : null].filter(Boolean);
    let wrapper;
    if (element.type === "select_one" || element.type === "select_multiple") {
      wrapper = this.choices(field);
    } else if (MAP_TYPES.has(element.type)) {
      wrapper = this.map(field);
    } else if (UNSUPPORTED.has(element.type)) {
      wrapper = el("div", { class: "question" },
        el("p", { class: "label", text: this.label(element, scope) }),
        el("p", { class: "note", text: this.app.t("unsupported") }));
      field.kind = "unsupported";
    } else {
      wrapper = this.input(field);
    }
    if (hint) wrapper.querySelector(".label, legend").after(hint);
    wrapper.append(error);
    wrapper.dataset.name = element.name;
    wrapper.dataset.path = path;
    field.wrapper = wrapper;
    this.fields.push(field);
    return wrapper;
  }

  input(field) {
    const { element, scope } = field;
    const value = this.app.model.get(element, scope);
    const attributes = {
      id: field.id, name: field.path, "aria-describedby": field.describedBy.join(" ") || null,
      "aria-required": this.app.model.isRequired(element, scope) ? "true" : null,
    };
    let control;
    if (element.type === "text" && /multiline/.test(element.appearance || "")) {
      control = el("textarea", { ...attributes, rows: 4 });
      control.value = value ?? "";
    } else if (element.type === "acknowledge") {
      control = el("input", { ...attributes, type: "checkbox", value: "OK" });
      control.checked = value === "OK";
    } else {
      const types = { integer: "text", decimal: "text", range: "text", date: "date", time: "time",
        datetime: "datetime-local" };
      const modes = { integer: "numeric", decimal: "decimal", range: "decimal" };
      control = el("input", { ...attributes, type: types[element.type] || "text",
        inputmode: modes[element.type] || null, autocomplete: "off" });
      control.value = value === undefined || value === null ? "" : String(value);
    }
    control.addEventListener("input", () => this.read(field));
    control.addEventListener("change", () => this.read(field));
    field.controls = [control];
    const label = el("label", { for: field.id, class: "label", text: this.label(element, scope) });
    if (element.type === "acknowledge") {
      return el("div", { class: "question" }, label,
        el("label", { class: "choice" }, control, el("span", { text: this.app.t("yes") })));
    }
    return el("div", { class: "question" }, label, control);
  }

  choices(field) {
    const { element, scope } = field;
    const multiple = element.type === "select_multiple";
    const value = this.app.model.get(element, scope);
    const chosen = new Set(multiple ? value || [] : value ? [value] : []);
    const box = el("fieldset", { class: "question choices", id: field.id,
      "aria-describedby": field.describedBy.join(" ") || null },
    el("legend", { class: "label", text: this.label(element, scope) }));
    field.controls = [];
    field.options = [];
    this.app.model.choices(element).forEach((choice, index) => {
      const id = `${field.id}-${index}`;
      const input = el("input", { type: multiple ? "checkbox" : "radio", id, name: field.path,
        value: choice.name,
        "aria-required": !multiple && this.app.model.isRequired(element, scope) ? "true" : null });
      input.checked = chosen.has(choice.name);
      input.addEventListener("change", () => this.read(field));
      const option = el("label", { class: "choice", for: id }, input,
        el("span", { text: this.app.model.text(choice.label) || choice.name }));
      field.controls.push(input);
      field.options.push({ choice, option, input });
      box.append(option);
    });
    return box;
  }

  map(field) {
    const { element, scope } = field;
    const box = el("div", { class: "question map-question" },
      el("p", { class: "label", id: `${field.id}-label`, text: this.label(element, scope) }));
    const holder = el("div", { class: "map-holder", id: field.id, role: "group",
      "aria-labelledby": `${field.id}-label` });
    box.append(holder);
    field.controls = [];
    const module = this.app.mapModule;
    if (!module || typeof module.mountMapQuestion !== "function") {
      holder.append(el("p", { class: "note", text: this.app.t("mapUnavailable") }));
      field.kind = "unsupported";
      return box;
    }
    const { model } = this.app;
    const mount = module.mountMapQuestion(holder, element, {
      language: model.language,
      t: (texts) => (typeof texts === "string" ? texts : model.text(texts)),
      ui: this.app.t,
      map: this.app.runtimeMap,
      choices: model.choices(element),
      onChange: (value) => {
        model.set(element, scope, value);
        this.app.onChange();
      },
    });
    const existing = model.get(element, scope);
    if (existing !== undefined) mount.setValue(existing);
    field.mount = mount;
    this.mounts.push(mount);
    return box;
  }

  repeat(element, scope) {
    const { model, t } = this.app;
    const data = model.container(scope);
    if (!Array.isArray(data[element.name])) data[element.name] = [];
    const entries = data[element.name];
    const fixed = model.repeatCount(element, scope);
    if (fixed !== null) {
      while (entries.length < fixed) entries.push({});
      entries.length = Math.min(entries.length, fixed);
    }
    const title = this.label(element, scope);
    const box = el("section", { class: "repeat", "data-name": element.name },
      el("h3", { text: title }));
    entries.forEach((entry, index) => {
      const inner = [...scope, [element.name, index]];
      const part = el("fieldset", { class: "entry", "data-entry": index + 1 },
        el("legend", { text: t("entry", { label: title, n: index + 1 }) }));
      part.append(this.render(element.children || [], inner));
      if (fixed === null) {
        const remove = el("button", { type: "button", class: "secondary", text: t("removeEntry") });
        remove.addEventListener("click", () => {
          entries.splice(index, 1);
          this.app.onStructureChange(null);
        });
        part.append(remove);
      }
      box.append(part);
    });
    if (fixed === null) {
      const add = el("button", { type: "button", class: "secondary add-entry", text: t("addEntry") });
      add.addEventListener("click", () => {
        entries.push({});
        const first = (element.children || []).find((child) => INPUT_TYPES.has(child.type));
        const focus = first ? idFor(pathOf([...scope, [element.name, entries.length - 1]], first.name)) : null;
        this.app.onStructureChange(focus);
      });
      box.append(add);
    }
    this.fields.push({ element, scope, wrapper: box, kind: "structure" });
    return box;
  }

  read(field) {
    const { element, scope } = field;
    const { model } = this.app;
    field.raw = null;
    let value;
    if (element.type === "select_multiple") {
      value = field.controls.filter((input) => input.checked).map((input) => input.value);
    } else if (element.type === "select_one") {
      const picked = field.controls.find((input) => input.checked);
      value = picked ? picked.value : undefined;
    } else if (element.type === "acknowledge") {
      value = field.controls[0].checked ? "OK" : undefined;
    } else {
      const text = field.controls[0].value.trim();
      value = text;
      if (text && (element.type === "integer" || element.type === "decimal" || element.type === "range")) {
        const pattern = element.type === "integer" ? INTEGER : DECIMAL;
        if (pattern.test(text)) value = Number(text.replace(",", "."));
        else {
          field.raw = text;
          value = undefined;
        }
      }
    }
    model.set(element, scope, value);
    this.clearError(field);
    this.app.onChange();
  }

  // Relevance, choice filters and calculations after any change, without redrawing.
  refresh() {
    const { model } = this.app;
    for (const field of this.fields) {
      const applies = model.applies(field.element, field.scope);
      if (field.wrapper) field.wrapper.hidden = !applies;
      if (field.options && applies && field.element.choice_filter) {
        const allowed = new Set(model.available(field.element, field.scope).map((c) => c.name));
        let dropped = false;
        for (const { choice, option, input } of field.options) {
          option.hidden = !allowed.has(choice.name);
          if (option.hidden && input.checked) {
            input.checked = false;
            dropped = true;
          }
        }
        if (dropped) this.read(field);
      }
    }
  }

  validate() {
    const { model, t } = this.app;
    const problems = [];
    for (const field of this.fields) {
      if (field.kind !== "input" || !model.applies(field.element, field.scope)) continue;
      const { element, scope } = field;
      const value = field.mount ? field.mount.getValue() : model.get(element, scope);
      let message = "";
      if (field.raw !== null) message = t(element.type === "integer" ? "wholeNumber" : "number");
      else if (isEmpty(value) && model.isRequired(element, scope)) {
        message = model.text(element.required_message) || t("required");
      } else if (!model.meetsConstraint(element, scope, value)) {
        message = model.text(element.constraint_message) || t("notAllowed");
      }
      if (message) {
        this.showError(field, message);
        problems.push(field);
      } else this.clearError(field);
    }
    return problems;
  }

  showError(field, message) {
    field.error.textContent = message;
    field.error.hidden = false;
    for (const control of field.controls || []) {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", [...field.describedBy, field.error.id].join(" "));
    }
    field.wrapper.classList.add("invalid");
  }

  clearError(field) {
    if (!field.error || field.error.hidden) return;
    field.error.hidden = true;
    field.error.textContent = "";
    for (const control of field.controls || []) {
      control.removeAttribute("aria-invalid");
      if (field.describedBy.length) control.setAttribute("aria-describedby", field.describedBy.join(" "));
      else control.removeAttribute("aria-describedby");
    }
    field.wrapper.classList.remove("invalid");
  }

  focusFirst(field) {
    const target = (field.controls || []).find((control) => !control.closest("[hidden]")) ||
      field.wrapper.querySelector("input, select, textarea, button, [tabindex]");
    if (target) target.focus();
  }
}

export { el, idFor, pathOf };
