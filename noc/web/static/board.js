// The NOC board's live part: the board is replaced whenever the server sends a new one (server-sent events).
// The timers count down by timers.js (loaded first: tick() is its). No framework, no build step.
"use strict";

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/board/events");
  source.addEventListener("open", () => { live.dataset.state = "live"; live.textContent = "live"; });
  source.addEventListener("error", () => { live.dataset.state = "reconnecting"; live.textContent = "reconnecting…"; });
  source.addEventListener("board", (event) => {
    document.getElementById("board").innerHTML = event.data;
    // The tab's title carries the open count, so a board in a background tab still shows that something changed.
    const count = document.getElementById("open-count");
    if (count) { document.title = `${count.textContent} · Board · NOC`; }
    live.dataset.updated = new Date().toISOString();
    tick();
  });
  source.addEventListener("signed-out", (event) => { source.close(); window.location.assign(event.data); });
}

connect();
