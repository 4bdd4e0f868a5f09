// Drafts, progressive enhancement (the "Save the draft" button works without it):
// - a writing form with data-draft keeps its text on the server every few seconds;
// - an empty form gets the member's draft back (from another device too), with its files;
// - leaving the page with text not yet saved asks first.
"use strict";
(function () {
  const AUTOSAVE_MS = 4000;

  function setUp(form) {
    const url = form.dataset.draft;
    const body = form.querySelector("textarea[name=body]");
    const title = form.querySelector("input[name=title]");
    const token = form.querySelector("input[name=csrf_token]");
    if (!url || !body || !token) return;
    let status = form.querySelector(".draft-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "hint draft-status";
      status.hidden = true;
      body.parentNode.insertBefore(status, body.nextSibling);
    }
    const savedText = status.dataset.savedText || (document.documentElement.lang === "en" ? "Draft saved" : "Brouillon enregistré");
    let dirty = false;
    let sending = false;

    const picker = form.querySelector("fieldset.attachments-picker");

    function current() {
      return { title: title ? title.value : "", body: body.value };
    }

    // The files listed in the form (checked boxes), kept with the draft.
    function withFiles(data) {
      if (!picker) return data;
      data.append("attachments_shown", "1");
      form.querySelectorAll('input[name="attachment"]:checked').forEach((box) => data.append("attachment", box.value));
      return data;
    }

    function hasFiles() {
      return !!form.querySelector('input[name="attachment"]:checked');
    }

    // A file of the draft listed again as static/js/uploads.js lists a file just sent.
    function listFile(upload) {
      const list = picker && picker.querySelector("ul.attached");
      if (!list || form.querySelector('input[name="attachment"][value="' + upload.id + '"]')) return;
      const item = document.createElement("li");
      if (upload.thumbnail_url) {
        const thumb = document.createElement("img");
        thumb.className = "thumb";
        thumb.src = upload.thumbnail_url;
        thumb.alt = "";
        item.appendChild(thumb);
      }
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "attachment";
      box.value = String(upload.id);
      box.checked = true;
      label.append(box, " " + upload.filename);
      item.appendChild(label);
      list.appendChild(item);
    }

    async function save() {
      if (!dirty || sending) return;
      dirty = false;
      const data = withFiles(new URLSearchParams(current()));
      try {
        const response = await fetch(url, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "X-CSRF-Token": token.value },
        });
        if (!response.ok) throw new Error(String(response.status));
        status.textContent = savedText + " · " + new Date().toLocaleTimeString(document.documentElement.lang || "fr", { hour: "2-digit", minute: "2-digit" });
        status.hidden = false;
      } catch (error) {
        dirty = true; // kept for the next round, and the warning on leaving stays on
      }
    }

    async function restore() {
      if (body.value.trim()) return; // a quote, a preview, a form sent back: never overwritten
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const draft = await response.json();
        const files = draft.attachments || [];
        if (!draft.body && !draft.title && !files.length) return;
        if (body.value.trim()) return; // typed meanwhile
        body.value = draft.body || "";
        if (title && !title.value) title.value = draft.title || "";
        files.forEach(listFile);
        status.textContent = savedText;
        status.hidden = false;
      } catch (error) {
        // no draft then: the form stays as it is
      }
    }

    const changed = () => { dirty = true; };
    body.addEventListener("input", changed);
    if (title) title.addEventListener("input", changed);
    // A box (un)checked, or a file sent by uploads.js: the draft's files change.
    form.addEventListener("change", (event) => { if (event.target.name === "attachment") changed(); });
    form.addEventListener("attachments-changed", changed);
    form.addEventListener("submit", () => { sending = true; });
    window.setInterval(save, AUTOSAVE_MS);
    window.addEventListener("beforeunload", (event) => {
      if (dirty && !sending && (body.value.trim() || (title && title.value.trim()) || hasFiles())) {
        event.preventDefault();
        event.returnValue = status.dataset.leaveText || "";
      }
    });
    window.addEventListener("pagehide", () => {
      // Last chance: what was typed since the last save, sent as the page goes.
      if (dirty && !sending && navigator.sendBeacon) {
        const data = new FormData();
        data.append("csrf_token", token.value);
        data.append("title", current().title);
        data.append("body", current().body);
        navigator.sendBeacon(url, withFiles(data));
      }
    });
    restore();
  }

  document.querySelectorAll("form[data-draft]").forEach(setUp);
})();
