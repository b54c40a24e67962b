// Live updates without reloading the page (served as a file: the pages
// allow no inline script). Rows and fragments come rendered and escaped
// by the server.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const rows = document.getElementById("register-rows");
  if (rows) {
    const status = document.getElementById("live-status");
    const source = new EventSource("/register/events?from=" + encodeURIComponent(rows.dataset.next));
    source.onopen = () => { status.textContent = "Live: new entries appear here."; };
    source.onerror = () => { status.textContent = "Reconnecting…"; };
    source.addEventListener("entry", (event) => {
      const known = rows.querySelector('tr[data-index="' + CSS.escape(event.lastEventId) + '"]');
      if (known) { return; }
      rows.insertAdjacentHTML("beforeend", event.data);
      const added = rows.lastElementChild;
      if (added) { added.classList.add("fresh"); }
      rows.dataset.next = String(Number(event.lastEventId) + 1);
    });
  }
  const health = document.getElementById("health-live");
  if (health) {
    setInterval(async () => {
      try {
        const answer = await fetch("/health/live", { credentials: "same-origin", cache: "no-store" });
        if (answer.ok) { health.innerHTML = await answer.text(); }
      } catch (e) { /* the next tick tries again */ }
    }, 2000);
  }
});
