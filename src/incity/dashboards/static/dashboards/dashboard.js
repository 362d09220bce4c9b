// Chart or table: each panel's button switches between the two (both show without script).
for (const button of document.querySelectorAll(".view-toggle")) {
  const [figureId, tableId] = button.getAttribute("aria-controls").split(" ");
  const figure = document.getElementById(figureId);
  const table = document.getElementById(tableId);
  const show = (tableView) => {
    figure.hidden = tableView;
    table.hidden = !tableView;
    button.setAttribute("aria-pressed", String(tableView));
    // The words come from the page, translated on the server.
    button.textContent = tableView ? button.dataset.showChart : button.dataset.showTable;
  };
  button.hidden = false;
  show(false);
  button.addEventListener("click", () => {
    const tableView = button.getAttribute("aria-pressed") !== "true";
    show(tableView);
    (tableView ? table.querySelector("table") : figure).setAttribute("tabindex", "-1");
  });
}
