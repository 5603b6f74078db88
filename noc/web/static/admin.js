// The inventory import form: refuse an upload above the server's size bound before sending it (the server would
// only answer with a bare 413), and say so next to the form. The server checks again; this only saves a round trip.
"use strict";

function bytesOf(text) { return new Blob([text]).size; }

function guard(form) {
  const max = Number(form.dataset.maxBytes);
  const message = document.getElementById("too-big");
  form.addEventListener("submit", (event) => {
    const file = form.elements.namedItem("file").files[0];
    const size = (file ? file.size : 0) + bytesOf(form.elements.namedItem("text").value);
    if (size > max) {
      event.preventDefault();
      message.textContent = `Too large: ${(size / 1048576).toFixed(1)} MiB given, at most ${form.dataset.maxText}.`;
      message.hidden = false;
    } else {
      message.hidden = true;
    }
  });
}

const form = document.getElementById("import-form");
if (form) { guard(form); }
