// Moderation queue, progressive enhancement: decide without reloading, and keys
// j / k (next / previous item), a (approve), r (write a reason to refuse).
// Without JavaScript every button still works with an ordinary form post.
"use strict";
(function () {
  const items = () => Array.from(document.querySelectorAll(".queue-item"));
  let current = 0;

  function focusItem(index) {
    const list = items();
    if (!list.length) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    list[current].focus();
  }

  async function decide(form) {
    const item = form.closest(".queue-item");
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual",
    });
    // 303 (opaque redirect) means done; anything else: let the browser show the answer.
    if (response.type === "opaqueredirect" || response.ok) {
      item.remove();
      focusItem(current);
    } else {
      form.submit();
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.closest(".queue-item") || !form.querySelector("input[name=next]")) return;
    event.preventDefault();
    decide(form);
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    const item = items()[current];
    if (event.key === "j") focusItem(current + 1);
    else if (event.key === "k") focusItem(current - 1);
    else if (event.key === "a" && item) {
      const approve = item.querySelector("form[action$='/approve']");
      if (approve) decide(approve);
    } else if (event.key === "r" && item) {
      const reason = item.querySelector("input[name=reason]");
      if (reason) { event.preventDefault(); reason.focus(); }
    }
  });
})();
