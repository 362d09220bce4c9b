// Polls each running export's status and moves its progress bar; shows the link when done.
// The words come from the page (translated on the server), never from this script.

function update(item, data) {
  const words = item.closest("ul").dataset;
  const bar = item.querySelector("progress");
  const text = (words.countText || "{done} / {total}")
    .replace("{done}", data.rows_done)
    .replace("{total}", data.rows_total);
  bar.value = data.percent;
  bar.textContent = `${data.percent}%`;
  bar.setAttribute("aria-valuetext", text);
  item.querySelector("[data-role=count]").textContent = text;
  const state = words[`state${data.status.charAt(0).toUpperCase()}${data.status.slice(1)}`];
  item.querySelector("[data-role=state]").textContent = state || data.status;
  item.dataset.status = data.status;
  const error = item.querySelector("[data-role=error]");
  error.textContent = data.error;
  error.hidden = !data.error;
  const download = item.querySelector("[data-role=download]");
  if (data.download_url) {
    download.querySelector("a").href = data.download_url;
    download.hidden = false;
  }
}

async function poll(item) {
  while (item.dataset.status === "queued" || item.dataset.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      const response = await fetch(item.dataset.exportStatus, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      update(item, await response.json());
    } catch {
      // A dropped connection: try again on the next tick.
    }
  }
}

for (const item of document.querySelectorAll("[data-export-status]")) poll(item);
