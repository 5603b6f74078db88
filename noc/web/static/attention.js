// The board calls for attention: a ticket of the top priority (#attention's data-priority) the page had not shown
// before, or a ticket escalated past the level the page last showed, plays the chime, shows a browser notification
// (once the viewer allowed them with the "Allow alerts" button) and makes the tab's title blink until the page is
// seen (it becomes visible, gets the focus, or is clicked or typed in). Rows are told apart by their ticket number
// (data-ticket) and escalation level (data-escalation), never by counting; what the page showed when it loaded never
// alerts.
//
// window.nocAttention is the page's hook: `alerts` lists every alert raised, oldest first, each
// {at, items: [{ref, ticket, why}], sound, notification, blinking}; `blinking` says whether the title blinks now;
// `allow()` asks for the notification permission. Each alert is also sent as a "noc:attention" event on document,
// and #attention's data-alerts (how many) and data-blinking follow, for whoever watches the page from outside.
"use strict";

(() => {
  const panel = document.getElementById("attention");
  const region = document.querySelector("[data-live]");
  if (!panel || !region) { return; }
  const top = panel.dataset.priority;
  const sound = new Audio(panel.dataset.sound);
  sound.preload = "auto";
  const allowButton = document.getElementById("attention-allow");
  const stateText = document.getElementById("attention-state");
  const MARK = "(!) ";
  const topSeen = new Set();  // tickets shown at the top priority
  const levels = new Map();  // ticket -> highest escalation level shown
  let blinker = null;

  function rows() {
    return Array.from(region.querySelectorAll("li[data-ticket]"), (li) => ({
      ticket: li.dataset.ticket,
      ref: li.dataset.ref,
      priority: li.dataset.priority,
      level: Number(li.dataset.escalation || 0),
    }));
  }

  // What the board shows now that it had not shown before; everything shown is remembered.
  function fresh() {
    const items = [];
    for (const row of rows()) {
      if (row.priority === top && !topSeen.has(row.ticket)) {
        topSeen.add(row.ticket);
        items.push({ ref: row.ref, ticket: row.ticket, why: `new ${top}` });
      }
      const before = levels.get(row.ticket);
      if (row.level > (before ?? 0)) {  // a ticket new to the page that is already escalated counts too
        items.push({ ref: row.ref, ticket: row.ticket, why: `escalated to level ${row.level}` });
      }
      levels.set(row.ticket, Math.max(row.level, before ?? 0));
    }
    return items;
  }

  function notificationState() {
    return "Notification" in window ? Notification.permission : "unsupported";
  }

  function describe() {
    const state = notificationState();
    // The words are the page's (in its language): data-said-* on the state line.
    const said = stateText.dataset;
    const words = { granted: said.saidGranted, denied: said.saidDenied, default: said.saidDefault, unsupported: said.saidUnsupported };
    stateText.textContent = said.saidLine.replace("{top}", top).replace("{state}", words[state]);
    allowButton.hidden = state !== "default";
  }

  function unmarked(title) { return title.startsWith(MARK) ? title.slice(MARK.length) : title; }

  function blink() {
    if (blinker !== null) { return; }
    blinker = setInterval(() => {
      document.title = document.title.startsWith(MARK) ? unmarked(document.title) : MARK + document.title;
    }, 800);
    document.title = MARK + unmarked(document.title);
    panel.dataset.blinking = "true";
  }

  function seen() {
    if (blinker === null) { return; }
    clearInterval(blinker);
    blinker = null;
    document.title = unmarked(document.title);
    panel.dataset.blinking = "false";
  }

  function notify(items) {
    const state = notificationState();
    if (state !== "granted") { return state; }
    try {
      const text = items.map((i) => `${i.ref}: ${i.why}`).join("\n");
      const shown = new Notification(`NOC board: ${items.length === 1 ? items[0].ref : `${items.length} tickets`}`, {
        body: text,
        tag: "noc-board",
        renotify: true,
      });
      shown.addEventListener("click", () => { window.focus(); shown.close(); });
      return "shown";
    } catch (error) {
      return `failed: ${error.name}`;
    }
  }

  async function play() {
    try {
      sound.currentTime = 0;
      await sound.play();
      return "played";
    } catch (error) {
      if (error.name === "NotAllowedError") {  // the browser plays sound only once the page was clicked
        stateText.textContent = stateText.dataset.saidClick;
      }
      return `failed: ${error.name}`;
    }
  }

  async function alert(items) {
    blink();
    const notification = notify(items);
    const record = { at: new Date().toISOString(), items, sound: await play(), notification, blinking: blinker !== null };
    hook.alerts.push(record);
    panel.dataset.alerts = String(hook.alerts.length);
    document.dispatchEvent(new CustomEvent("noc:attention", { detail: record }));
  }

  const hook = {
    alerts: [],
    get blinking() { return blinker !== null; },
    async allow() {
      if (!("Notification" in window)) { return "unsupported"; }
      const answer = await Notification.requestPermission();
      describe();
      return answer;
    },
  };
  window.nocAttention = hook;

  fresh();  // what the page shows at load is known, not new
  describe();
  panel.dataset.alerts = "0";
  panel.dataset.blinking = "false";
  allowButton.addEventListener("click", () => { hook.allow(); });
  region.addEventListener("live:update", () => {
    const items = fresh();
    if (items.length) { alert(items); }
  });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") { seen(); } });
  window.addEventListener("focus", seen);
  document.addEventListener("pointerdown", seen);
  document.addEventListener("keydown", seen);
})();
