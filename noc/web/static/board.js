// The NOC board's live parts: the board is replaced whenever the server sends a new one (server-sent events),
// and every timer counts down each second from the due time the server rendered. No framework, no build step.
"use strict";

function pad(n) { return String(n).padStart(2, "0"); }

function span(seconds) {
  const s = Math.abs(Math.trunc(seconds));
  const h = Math.trunc(s / 3600), m = Math.trunc((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time[data-due]")) {
    if (el.dataset.paused) { el.textContent = "paused (customer)"; el.className = "paused"; continue; }
    const due = Date.parse(el.dataset.due), start = Date.parse(el.dataset.start);
    const left = (due - now) / 1000;
    el.textContent = left >= 0 ? `${span(left)} left` : `overdue ${span(left)}`;
    const used = (now - start) / Math.max(1, due - start);
    el.className = left < 0 ? "overdue" : used >= 0.75 ? "warn" : "ok";
  }
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/board/events");
  source.addEventListener("open", () => { live.dataset.state = "live"; live.textContent = "live"; });
  source.addEventListener("error", () => { live.dataset.state = "reconnecting"; live.textContent = "reconnecting…"; });
  source.addEventListener("board", (event) => {
    document.getElementById("board").innerHTML = event.data;
    live.dataset.updated = new Date().toISOString();
    tick();
  });
  source.addEventListener("signed-out", (event) => { source.close(); window.location.assign(event.data); });
}

tick();
setInterval(tick, 1000);
connect();
