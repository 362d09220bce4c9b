// Chart or table: each panel's button switches between the two (both show without script).
for (const button of document.querySelectorAll(".view-toggle")) {
  const [figureId, tableId] = button.getAttribute("aria-controls").split(" ");
  const figure = document.getElementById(figureId);
  const table = document.getElementById(tableId);
  const show = (tableView) => {
    figure.hidden = tableView;
    table.hidden = !tableView;
    button.setAttribute("aria-pressed", String(tableView));
    button.textContent = tableView ? "Show the chart" : "Show the table";
  };
  button.hidden = false;
  show(false);
  button.addEventListener("click", () => {
    const tableView = button.getAttribute("aria-pressed") !== "true";
    show(tableView);
    (tableView ? table.querySelector("table") : figure).setAttribute("tabindex", "-1");
  });
}
