// Attaching files, progressive enhancement (without JavaScript the form sends the files itself):
// files chosen or dropped on the files block are sent at once to /api/v1/uploads, each with a
// progress bar, then listed as checked boxes carrying their ids, so that publishing does not send
// them again. Texts come from the block's data-* attributes, translated by the server.
"use strict";
(function () {
  function csrfToken(form) {
    const input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // Units in the page's language: "ko", "Mo" in French (octets), "kB", "MB" in English.
  const UNITS = { fr: ["o", "ko", "Mo"], en: ["B", "kB", "MB"] };

  function size(bytes) {
    const lang = document.documentElement.lang || "fr";
    const units = UNITS[lang.slice(0, 2)] || UNITS.en;
    const format = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    if (bytes >= 1048576) return format.format(bytes / 1048576) + "\u00a0" + units[2];
    if (bytes >= 1024) return format.format(Math.round(bytes / 1024)) + "\u00a0" + units[1];
    return bytes + "\u00a0" + units[0];
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function insertInText(text) {
    const textarea = document.querySelector("textarea#body");
    if (!textarea) return;
    const at = textarea.selectionStart ?? textarea.value.length;
    const before = textarea.value.slice(0, at);
    const glue = before && !before.endsWith("\n") ? "\n\n" : "";
    textarea.value = before + glue + text + "\n\n" + textarea.value.slice(at);
    textarea.focus();
  }

  function listed(picker, item, upload) {
    item.textContent = "";
    if (upload.thumbnail_url) {
      const thumb = element("img", "thumb");
      thumb.src = upload.thumbnail_url;
      thumb.alt = "";
      item.appendChild(thumb);
    }
    const label = element("label");
    const box = element("input");
    box.type = "checkbox";
    box.name = "attachment";
    box.value = String(upload.id);
    box.checked = true;
    label.append(box, " " + upload.filename);
    item.append(label, " ", element("span", "file-meta", upload.kind.toUpperCase() + " · " + size(upload.size)));
    const removed = upload.removed.length
      ? picker.dataset.removed + " " + upload.removed.join(", ") + "."
      : picker.dataset.nothingRemoved;
    item.appendChild(element("p", "removed-metadata", removed));
    if (upload.content_type.startsWith("image/")) {
      const alt = upload.filename.replace(/[\\[\]]/g, "\\$&");
      const insert = element("button", "secondary", picker.dataset.insert);
      insert.type = "button";
      insert.addEventListener("click", () => insertInText("![" + alt + "](" + upload.url + ")"));
      item.appendChild(insert);
    }
  }

  function failed(item, file, message) {
    item.textContent = "";
    item.className = "error";
    item.setAttribute("role", "alert");
    item.textContent = file.name + " : " + message;
  }

  function send(picker, file) {
    const item = element("li", "sending");
    const bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    item.append(element("span", "", file.name + " "), bar);
    picker.querySelector("ul.attached").appendChild(item);
    if (file.size > Number(picker.dataset.maxBytes)) {
      failed(item, file, picker.dataset.tooLarge);
      return;
    }
    const data = new FormData();
    data.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", picker.dataset.uploadUrl);
    request.setRequestHeader("X-CSRF-Token", csrfToken(picker.closest("form")));
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    request.addEventListener("load", () => {
      const body = request.response;
      if (request.status === 201 && body) {
        listed(picker, item, body);
        // static/js/drafts.js keeps the files with the draft.
        picker.dispatchEvent(new CustomEvent("attachments-changed", { bubbles: true }));
      }
      else failed(item, file, body && body.error ? body.error.message : picker.dataset.failed);
    });
    request.addEventListener("error", () => failed(item, file, picker.dataset.failed));
    request.send(data);
  }

  document.querySelectorAll("fieldset.attachments-picker").forEach((picker) => {
    const input = picker.querySelector('input[type="file"]');
    if (!input || !picker.dataset.uploadUrl) return;
    picker.classList.add("enhanced");
    picker.appendChild(element("p", "drop-hint", picker.dataset.drop));
    input.addEventListener("change", () => {
      Array.from(input.files).forEach((file) => send(picker, file));
      input.value = ""; // sent already: the form must not carry them again
    });
    picker.addEventListener("dragover", (event) => {
      event.preventDefault();
      picker.classList.add("dragging");
    });
    picker.addEventListener("dragleave", () => picker.classList.remove("dragging"));
    picker.addEventListener("drop", (event) => {
      event.preventDefault();
      picker.classList.remove("dragging");
      Array.from(event.dataTransfer.files).forEach((file) => send(picker, file));
    });
  });
})();
