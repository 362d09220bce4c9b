// Progressive enhancement for the form builder; every page works without it.
//  - The question form shows only the fields that matter for the chosen type.
//  - Removing an element asks for confirmation first.

const FIELDS_BY_TYPE = {
  choices: ["select_one", "select_multiple", "rank", "map_marks"],
  filter: ["select_one", "select_multiple", "rank"],
  calculation: ["calculate"],
  repeat: ["repeat"],
  answer: ["text", "integer", "decimal", "select_one", "select_multiple", "rank", "date", "time",
    "datetime", "geopoint", "geotrace", "geoshape", "map_marks", "range", "barcode", "acknowledge"],
};

function showFieldsFor(type) {
  for (const block of document.querySelectorAll("[data-for-types]")) {
    const group = block.getAttribute("data-for-types");
    const types = FIELDS_BY_TYPE[group] || [];
    block.hidden = !types.includes(type);
    // Hidden fields are not sent, so a value typed for another type cannot refuse the form.
    for (const input of block.querySelectorAll("input, select, textarea")) {
      input.disabled = block.hidden;
    }
  }
}

const typeSelect = document.querySelector("[data-question-type]");
if (typeSelect) {
  showFieldsFor(typeSelect.value);
  typeSelect.addEventListener("change", () => showFieldsFor(typeSelect.value));
}

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
}
