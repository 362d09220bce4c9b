// Map questions for the collection app: geopoint, geotrace, geoshape and map marks.
//
// mountMapQuestion(container, question, context) -> { getValue(), setValue(v), destroy() }
//   question: the form element ({type, name, label, list_name, ...})
//   context:  { language, t(labelObject) -> text, map: places.queries.map_context(project),
//               choices: [{name, label}] (the question's category list, for map marks),
//               onChange(value), onDescribe(text) (optional), strings: {key: text} (optional),
//               leafletBase: "/static/leaflet/" (optional) }
//
// Values are exactly what the server's validation takes (surveys/validation.py):
//   geopoint  {"type": "Point", "coordinates": [lon, lat]}
//   geotrace  {"type": "LineString", "coordinates": [[lon, lat], ...]}        (2 or more)
//   geoshape  {"type": "Polygon", "coordinates": [[[lon, lat], ..., first]]}  (closed ring)
//   map_marks [{geometry | place | description, category, time_of_day?, comment?}, ...]
// Every question offers a text alternative beside the map: a named place of the project,
// or the place described in words. For map marks both are marks the server accepts; a
// geopoint takes a named place's point; a description for a geopoint, geotrace or geoshape
// is the answer {"description": "..."} (and is also handed to context.onDescribe).

import {
  MIN_VERTICES, Sketch, el, format, loadStyle, uid, verticesOf,
} from "../places/sketch.js";

const STRINGS = {
  how: "How do you want to give the place?",
  onMap: "On the map",
  namedPlace: "Choose a named place",
  inWords: "Describe it in words",
  placeList: "Named place",
  pickPlace: "Choose…",
  describe: "Describe the place (no exact address needed)",
  describeNote: "Your description is kept with your answers instead of a place on the map.",
  tapPoint: "Tap the map to put the point, or move the map and use “Put the point at the centre”.",
  tapVertices: "Tap the map to add points one by one, then press “Finish”.",
  centre: "Put the point at the centre",
  centreVertex: "Add a point at the centre",
  myLocation: "Use my location",
  locating: "Finding your location…",
  located: "Your location, accurate to about {m} m.",
  noLocation: "Your location is not available: {reason}",
  undo: "Undo last point",
  finish: "Finish",
  clear: "Clear",
  pointSet: "Point set at {lat}, {lon}.",
  vertices: "{n} points so far.",
  needMore: "Add at least {n} points.",
  outside: "This place is outside the project area ({areas}). Choose a place inside it, or choose a named place or describe it instead.",
  offline: "The map tiles cannot load (no connection). The neighbourhood boundary is shown on a plain background.",
  marks: "Your marks",
  noMarks: "No marks yet.",
  addMark: "Add a mark",
  editMark: "Change mark {n}",
  saveMark: "Save the mark",
  cancel: "Cancel",
  edit: "Change",
  remove: "Delete",
  editLabel: "Change mark {n}",
  removeLabel: "Delete mark {n}",
  shape: "What do you want to mark?",
  kindPoint: "A point",
  kindLine: "A street or path",
  kindArea: "An area",
  category: "What kind of place is it?",
  timeOfDay: "At what time of day? (optional)",
  anyTime: "Not said",
  day: "Day",
  evening: "Evening",
  night: "Night",
  comment: "Comment (optional)",
  needCategory: "Choose what kind of place it is.",
  needPlace: "Mark the place on the map, choose a named place, or describe it.",
  markOnMap: "on the map",
  saved: "Mark {n} saved.",
  removed: "Mark {n} deleted.",
  mapLabel: "Map. Use the arrow keys to move it and + or - to zoom.",
};

const TIMES = ["day", "evening", "night"];
const QUESTION_SHAPES = { geopoint: "Point", geotrace: "LineString", geoshape: "Polygon" };

// --------------------------------------------------------------- shared form pieces

function radioGroup(legend, name, options, selected, onSelect) {
  const box = el("fieldset", { class: "incity-choices" }, el("legend", { text: legend }));
  for (const option of options) {
    const input = el("input", { type: "radio", name, value: option.value });
    input.checked = option.value === selected;
    input.addEventListener("change", () => { if (input.checked) onSelect(option.value); });
    box.append(el("label", { class: "incity-choice" }, input, el("span", { text: option.label })));
  }
  return box;
}

function selectedRadio(box) {
  const input = box.querySelector("input:checked");
  return input ? input.value : "";
}

function setRadio(box, value) {
  for (const input of box.querySelectorAll("input")) input.checked = input.value === value;
}

function placeLabel(place, language) {
  return (place.translations && place.translations[language]) || place.name;
}

/** The map, named-place and words panels with the switch between them. */
class PlacePicker {
  constructor(holder, context, strings, { allowPlaces, onChange }) {
    this.context = context;
    this.s = strings;
    this.onChange = onChange;
    this.places = (context.map && context.map.places) || [];
    const name = uid("incity-how");
    const modes = [{ value: "map", label: strings.onMap }];
    if (allowPlaces && this.places.length) modes.push({ value: "place", label: strings.namedPlace });
    modes.push({ value: "words", label: strings.inWords });
    this.modes = radioGroup(strings.how, name, modes, "map", (mode) => this.show(mode));
    this.mapPanel = el("div", { class: "incity-map-panel" });
    const selectId = uid("incity-place");
    this.select = el("select", { id: selectId, class: "incity-select" },
      el("option", { value: "", text: strings.pickPlace }),
      ...this.places.map((place) =>
        el("option", { value: String(place.id), text: placeLabel(place, context.language) })));
    this.select.addEventListener("change", () => this.onChange());
    this.placePanel = el("div", { class: "incity-place-panel", hidden: true },
      el("label", { for: selectId, text: strings.placeList }), this.select);
    const wordsId = uid("incity-words");
    this.words = el("textarea", { id: wordsId, rows: "3", maxlength: "2000", class: "incity-text" });
    this.words.addEventListener("input", () => this.onChange());
    this.wordsPanel = el("div", { class: "incity-words-panel", hidden: true },
      el("label", { for: wordsId, text: strings.describe }), this.words);
    holder.append(this.modes, this.mapPanel, this.placePanel, this.wordsPanel);
    this.sketch = new Sketch(this.mapPanel, context, strings, () => this.onChange());
    this.mode = "map";
  }

  show(mode) {
    this.mode = mode;
    setRadio(this.modes, mode);
    this.mapPanel.hidden = mode !== "map";
    this.placePanel.hidden = mode !== "place";
    this.wordsPanel.hidden = mode !== "words";
    if (mode === "map" && this.sketch.map) this.sketch.map.invalidateSize();
    this.onChange();
  }

  place() {
    return this.places.find((place) => String(place.id) === this.select.value) || null;
  }

  reset(kind) {
    this.select.value = "";
    this.words.value = "";
    this.sketch.setKind(kind);
    this.sketch.vertices = [];
    this.sketch.draw();
    this.sketch.say("");
    this.show("map");
  }

  destroy() {
    this.sketch.destroy();
  }
}

// ---------------------------------------------------------------- geometry questions

function mountGeometry(container, question, context, strings) {
  const kind = QUESTION_SHAPES[question.type];
  let describing = "";
  const emit = () => context.onChange && context.onChange(value());
  const picker = new PlacePicker(container, context, strings, {
    allowPlaces: kind === "Point",
    onChange: () => {
      if (picker.mode === "words" && picker.words.value.trim() !== describing) {
        describing = picker.words.value.trim();
        if (context.onDescribe) context.onDescribe(describing);
      }
      emit();
    },
  });
  picker.wordsPanel.append(el("p", { class: "incity-note", text: strings.describeNote }));
  picker.sketch.setKind(kind);

  function value() {
    if (picker.mode === "place") {
      const place = picker.place();
      return place ? { type: "Point", coordinates: [place.lon, place.lat] } : null;
    }
    if (picker.mode === "words") {
      // The server takes {"description": ...} in place of a geometry for every map question.
      const words = picker.words.value.trim();
      return words ? { description: words } : null;
    }
    return picker.sketch.geometry();
  }

  return {
    getValue: value,
    getDescription: () => (picker.mode === "words" ? picker.words.value.trim() : ""),
    setValue(v) {
      if (!v || typeof v !== "object") {
        picker.reset(kind);
        return;
      }
      if (typeof v.description === "string") {
        picker.words.value = v.description;
        picker.show("words");
        return;
      }
      const match = kind === "Point" && picker.places.find((place) =>
        place.lon === v.coordinates[0] && place.lat === v.coordinates[1]);
      if (match) {
        picker.select.value = String(match.id);
        picker.show("place");
        return;
      }
      picker.show("map");
      const vertices = verticesOf(v);
      picker.sketch.ready.then(() => picker.sketch.setVertices(vertices));
      picker.sketch.vertices = vertices;
    },
    destroy: () => picker.destroy(),
  };
}

// ----------------------------------------------------------------------- map marks

function categoriesFor(question, context) {
  const own = Array.isArray(context.choices) && context.choices.length ? context.choices : null;
  const list = own || (context.map && context.map.categories) || [];
  return list.map((choice) => ({
    value: choice.name,
    label: (typeof choice.label === "string" ? choice.label : context.t(choice.label)) || choice.name,
  }));
}

function mountMarks(container, question, context, strings) {
  const categories = categoriesFor(question, context);
  const timeLabels = { day: strings.day, evening: strings.evening, night: strings.night };
  let marks = [];
  let editing = -1; // the index of the mark being changed, -1 for a new one

  const list = el("ol", { class: "incity-marks" });
  const empty = el("p", { class: "incity-note", text: strings.noMarks });
  const announce = el("p", { class: "incity-visually-hidden", "aria-live": "polite" });
  const heading = el("h4", { class: "incity-editor-title", text: strings.addMark });
  const editor = el("fieldset", { class: "incity-mark-editor" }, el("legend", {}, heading));
  const error = el("p", { class: "incity-map-error incity-mark-problem", role: "alert", hidden: true });
  container.append(
    el("h4", { class: "incity-marks-title", text: strings.marks }), empty, list, announce, editor);

  const shapeBox = radioGroup(strings.shape, uid("incity-shape"), [
    { value: "Point", label: strings.kindPoint },
    { value: "LineString", label: strings.kindLine },
    { value: "Polygon", label: strings.kindArea },
  ], "Point", (kind) => { picker.sketch.setKind(kind); picker.sketch.clear(); });
  const pickerHolder = el("div", { class: "incity-picker" });
  editor.append(pickerHolder);
  const picker = new PlacePicker(pickerHolder, context, strings, {
    allowPlaces: true,
    onChange: () => { error.hidden = true; },
  });
  picker.mapPanel.prepend(shapeBox);
  picker.sketch.setKind("Point");

  const categoryBox = radioGroup(strings.category, uid("incity-category"), categories, "", () => {
    error.hidden = true;
  });
  const timeBox = radioGroup(strings.timeOfDay, uid("incity-time"), [
    { value: "", label: strings.anyTime },
    ...TIMES.map((time) => ({ value: time, label: timeLabels[time] })),
  ], "", () => {});
  const commentId = uid("incity-comment");
  const comment = el("textarea", { id: commentId, rows: "2", maxlength: "2000", class: "incity-text" });
  const save = el("button", { type: "button", class: "incity-button incity-primary", text: strings.saveMark });
  const cancel = el("button", { type: "button", class: "incity-button", text: strings.cancel, hidden: true });
  editor.append(categoryBox, timeBox,
    el("div", { class: "incity-field" }, el("label", { for: commentId, text: strings.comment }), comment),
    error, el("div", { class: "incity-map-buttons" }, save, cancel));

  function draft() {
    const mark = {};
    if (picker.mode === "map") {
      const geometry = picker.sketch.geometry();
      if (geometry) mark.geometry = geometry;
    } else if (picker.mode === "place") {
      const place = picker.place();
      if (place) mark.place = place.name;
    } else if (picker.words.value.trim()) {
      mark.description = picker.words.value.trim();
    }
    const category = selectedRadio(categoryBox);
    if (category) mark.category = category;
    const time = selectedRadio(timeBox);
    if (time) mark.time_of_day = time;
    if (comment.value.trim()) mark.comment = comment.value.trim();
    return mark;
  }

  function problem(mark) {
    if (!mark.geometry && !mark.place && !mark.description) {
      if (picker.mode === "map" && picker.sketch.kind !== "Point" && picker.sketch.vertices.length) {
        return format(strings.needMore, { n: MIN_VERTICES[picker.sketch.kind] });
      }
      return strings.needPlace;
    }
    if (!mark.category) return strings.needCategory;
    return "";
  }

  function resetEditor() {
    editing = -1;
    heading.textContent = strings.addMark;
    cancel.hidden = true;
    setRadio(shapeBox, "Point");
    picker.reset("Point");
    setRadio(categoryBox, "");
    setRadio(timeBox, "");
    comment.value = "";
    error.hidden = true;
  }

  function describe(mark) {
    const category = categories.find((c) => c.value === mark.category);
    const where = mark.place || mark.description || strings.markOnMap;
    const parts = [category ? category.label : mark.category, where];
    if (mark.time_of_day) parts.push(timeLabels[mark.time_of_day] || mark.time_of_day);
    if (mark.comment) parts.push(`“${mark.comment}”`);
    return parts.join(" · ");
  }

  function render() {
    empty.hidden = marks.length > 0;
    list.replaceChildren(...marks.map((mark, index) => {
      const n = index + 1;
      return el("li", { class: "incity-mark", "data-mark": n },
        el("span", { class: "incity-mark-text", text: describe(mark) }),
        el("span", { class: "incity-mark-actions" },
          el("button", { type: "button", class: "incity-button", "aria-label": format(strings.editLabel, { n }),
            text: strings.edit, onclick: () => startEdit(index) }),
          el("button", { type: "button", class: "incity-button", "aria-label": format(strings.removeLabel, { n }),
            text: strings.remove, onclick: () => removeMark(index) })));
    }));
  }

  function emit() {
    render();
    if (context.onChange) context.onChange(marks.length ? marks.map((m) => ({ ...m })) : null);
  }

  function startEdit(index) {
    const mark = marks[index];
    resetEditor();
    editing = index;
    heading.textContent = format(strings.editMark, { n: index + 1 });
    cancel.hidden = false;
    if (mark.geometry) {
      setRadio(shapeBox, mark.geometry.type);
      picker.sketch.setKind(mark.geometry.type);
      const vertices = verticesOf(mark.geometry);
      picker.sketch.vertices = vertices;
      picker.sketch.ready.then(() => picker.sketch.setVertices(vertices));
      picker.show("map");
    } else if (mark.place) {
      const place = picker.places.find((p) => p.name === mark.place);
      picker.select.value = place ? String(place.id) : "";
      picker.show("place");
    } else {
      picker.words.value = mark.description || "";
      picker.show("words");
    }
    setRadio(categoryBox, mark.category || "");
    setRadio(timeBox, mark.time_of_day || "");
    comment.value = mark.comment || "";
    editor.scrollIntoView({ block: "nearest" });
    editor.querySelector("input:checked, input")?.focus();
  }

  function removeMark(index) {
    marks.splice(index, 1);
    if (editing === index) resetEditor();
    announce.textContent = format(strings.removed, { n: index + 1 });
    emit();
    (list.querySelector("button") || save).focus();
  }

  save.addEventListener("click", () => {
    const mark = draft();
    const message = problem(mark);
    if (message) {
      error.textContent = message;
      error.hidden = false;
      return;
    }
    const n = editing >= 0 ? editing + 1 : marks.length + 1;
    if (editing >= 0) marks[editing] = mark;
    else marks.push(mark);
    resetEditor();
    announce.textContent = format(strings.saved, { n });
    emit();
  });
  cancel.addEventListener("click", resetEditor);
  render();

  return {
    getValue: () => (marks.length ? marks.map((m) => ({ ...m })) : null),
    setValue(v) {
      marks = Array.isArray(v) ? v.filter((m) => m && typeof m === "object").map((m) => ({ ...m })) : [];
      resetEditor();
      render();
    },
    destroy: () => picker.destroy(),
  };
}

// -------------------------------------------------------------------------- entry

export function mountMapQuestion(container, question, context) {
  const strings = { ...STRINGS, ...(context.strings || {}) };
  const styleReady = loadStyle(new URL("./map.css", import.meta.url).href);
  context = { ...context, styleReady };
  const root = el("div", { class: "incity-map-question", "data-type": question.type });
  container.append(root);
  const mount = question.type === "map_marks"
    ? mountMarks(root, question, context, strings)
    : mountGeometry(root, question, context, strings);
  return {
    getValue: mount.getValue,
    setValue: mount.setValue,
    getDescription: mount.getDescription || (() => ""),
    destroy() {
      mount.destroy();
      root.remove();
    },
  };
}
