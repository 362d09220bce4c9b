// Polls each running export's status and moves its progress bar; shows the link when done.
const STATES = { queued: "Waiting to start", running: "Writing", done: "Ready", failed: "Failed" };

function update(item, data) {
  const bar = item.querySelector("progress");
  const text = `${data.rows_done} of ${data.rows_total} submissions`;
  bar.value = data.percent;
  bar.textContent = `${data.percent}%`;
  bar.setAttribute("aria-valuetext", text);
  item.querySelector("[data-role=count]").textContent = text;
  item.querySelector("[data-role=state]").textContent = STATES[data.status] || data.status;
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
