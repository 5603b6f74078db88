// A page's live region: the element with data-live="<events URL>" is replaced whenever the server sends a new one
// (server-sent events, noc/web/live.py). The tab's title follows the region's #open-count, so a page in a
// background tab still shows that something changed. Timers count down by timers.js (loaded first: tick() is its).
// After each update the region sends a "live:update" event (the board's attention.js compares what it now shows).
// While someone is acting in a form of the region (choosing a board row's technician, pressing its button), an
// update waits until the focus leaves the region's forms (#live's data-held says one waits), so a choice being made
// or a button being pressed is not swept away.
"use strict";

function connect(region) {
  const status = document.getElementById("live");
  const title = document.title.replace(/^[^·]*· /, "");  // the title without the count the server put in front
  const source = new EventSource(region.dataset.live);
  let held = null;

  function busy() {
    const active = document.activeElement;
    return active !== null && region.contains(active) && active.matches("input, select, textarea, button");
  }

  function apply(html) {
    region.innerHTML = html;
    const count = document.getElementById("open-count");
    if (count) { document.title = `${count.textContent} · ${title}`; }
    status.dataset.updated = new Date().toISOString();
    tick();
    region.dispatchEvent(new CustomEvent("live:update", { bubbles: true }));
  }

  // The words are the page's (in its language): data-said-live and data-said-reconnecting on the status line.
  source.addEventListener("open", () => { status.dataset.state = "live"; status.textContent = status.dataset.saidLive; });
  source.addEventListener("error", () => {
    status.dataset.state = "reconnecting";
    status.textContent = status.dataset.saidReconnecting;
  });
  source.addEventListener("update", (event) => {
    if (busy()) { held = event.data; status.dataset.held = "true"; return; }
    apply(event.data);
  });
  region.addEventListener("focusout", () => {
    setTimeout(() => {  // once the focus has landed
      if (held === null || busy()) { return; }  // still in a form of the region: keep waiting
      const html = held;
      held = null;
      delete status.dataset.held;
      apply(html);
    }, 0);
  });
  source.addEventListener("signed-out", (event) => { source.close(); window.location.assign(event.data); });
}

const region = document.querySelector("[data-live]");
if (region) { connect(region); }
