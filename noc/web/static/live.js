// A page's live region: the element with data-live="<events URL>" is replaced whenever the server sends a new one
// (server-sent events, noc/web/live.py). The tab's title follows the region's #open-count, so a page in a
// background tab still shows that something changed. Timers count down by timers.js (loaded first: tick() is its).
// After each update the region sends a "live:update" event (the board's attention.js compares what it now shows).
"use strict";

function connect(region) {
  const status = document.getElementById("live");
  const title = document.title.replace(/^[^·]*· /, "");  // the title without the count the server put in front
  const source = new EventSource(region.dataset.live);
  source.addEventListener("open", () => { status.dataset.state = "live"; status.textContent = "live"; });
  source.addEventListener("error", () => { status.dataset.state = "reconnecting"; status.textContent = "reconnecting…"; });
  source.addEventListener("update", (event) => {
    region.innerHTML = event.data;
    const count = document.getElementById("open-count");
    if (count) { document.title = `${count.textContent} · ${title}`; }
    status.dataset.updated = new Date().toISOString();
    tick();
    region.dispatchEvent(new CustomEvent("live:update", { bubbles: true }));
  });
  source.addEventListener("signed-out", (event) => { source.close(); window.location.assign(event.data); });
}

const region = document.querySelector("[data-live]");
if (region) { connect(region); }
