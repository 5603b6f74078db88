// Timers on any page: every <time data-due> counts down each second from the due time the server rendered
// (data-start is when the clock began, for the 75 % warning colour). No build step.
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
    const due = Date.parse(el.dataset.due), start = Date.parse(el.dataset.start);
    const left = (due - now) / 1000;
    // The words are the page's (in its language): data-said-left and data-said-overdue, "{span}" in each.
    const said = left >= 0 ? el.dataset.saidLeft : el.dataset.saidOverdue;
    el.textContent = said.replace("{span}", span(left));
    const used = (now - start) / Math.max(1, due - start);
    el.className = left < 0 ? "overdue" : used >= 0.75 ? "warn" : "ok";
  }
}

tick();
setInterval(tick, 1000);
