// Writing helpers, progressive enhancement (everything works without them):
// - "Quote" with text selected in a post quotes only the selection, in the reply box below;
// - typing @ in a message box suggests members' pseudonyms.
"use strict";
(function () {
  const box = () => document.querySelector("textarea#body");

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.quote");
    const textarea = box();
    if (!link || !textarea) return;
    const selection = window.getSelection();
    const body = link.closest("article").querySelector(".post-body");
    const text = selection ? selection.toString().trim() : "";
    if (!text || !body || !body.contains(selection.anchorNode)) return; // whole post: server
    event.preventDefault();
    const quoted = text.split("\n").map((line) => "> " + line).join("\n");
    const start = textarea.value && !textarea.value.endsWith("\n\n") ? "\n\n" : "";
    textarea.value += start + link.dataset.quoteHeader + "\n" + quoted + "\n\n";
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  });

  // @ suggestions ------------------------------------------------------------------------------
  let list = null;
  let timer = null;

  function close() {
    if (list) list.remove();
    list = null;
  }

  function typedPrefix(textarea) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const match = /(?:^|[^\w@.])@([\p{L}\p{N}_.-]{1,30})$/u.exec(before);
    return match ? match[1] : null;
  }

  function insert(textarea, name) {
    const caret = textarea.selectionStart;
    const before = textarea.value.slice(0, caret).replace(/@[\p{L}\p{N}_.-]*$/u, "@" + name + " ");
    textarea.value = before + textarea.value.slice(caret);
    textarea.setSelectionRange(before.length, before.length);
    textarea.focus();
    close();
  }

  async function suggest(textarea) {
    const prefix = typedPrefix(textarea);
    if (!prefix) return close();
    const response = await fetch("/api/v1/members?prefix=" + encodeURIComponent(prefix),
                                 { credentials: "same-origin" });
    if (!response.ok) return close();
    const names = (await response.json()).members || [];
    close();
    if (!names.length) return;
    list = document.createElement("ul");
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    names.forEach((name) => {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.tabIndex = 0;
      item.textContent = "@" + name;
      item.addEventListener("mousedown", (e) => { e.preventDefault(); insert(textarea, name); });
      item.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); insert(textarea, name); } });
      list.appendChild(item);
    });
    textarea.insertAdjacentElement("afterend", list);
  }

  document.addEventListener("input", (event) => {
    if (event.target !== box()) return;
    clearTimeout(timer);
    timer = setTimeout(() => suggest(event.target), 150);
  });
  document.addEventListener("keydown", (event) => {
    if (!list) return;
    if (event.key === "Escape") close();
    if (event.key === "ArrowDown" && event.target === box()) {
      event.preventDefault();
      list.firstChild.focus();
    }
  });
})();
