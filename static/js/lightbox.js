// Photos over the thread page, progressive enhancement: without JavaScript a photo's link opens
// the viewer page (/photos/N), which has its own previous and next links. Here the photos of the
// page open in a <dialog>: Escape closes it (focus goes back to the photo's link), the arrow keys
// go to the previous and next photo of the page, Tab stays within its buttons.
"use strict";
(function () {
  const links = Array.from(document.querySelectorAll("a.photo-link[data-full]"));
  if (!links.length || typeof HTMLDialogElement === "undefined") return;
  const texts = document.documentElement.lang === "en"
    ? { close: "Close", previous: "Previous photo", next: "Next photo", viewer: "Open the viewer page", label: "Photo" }
    : { close: "Fermer", previous: "Photo précédente", next: "Photo suivante", viewer: "Ouvrir la page de la photo", label: "Photo" };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const dialog = element("dialog", "lightbox");
  dialog.setAttribute("aria-label", texts.label);
  const figure = element("figure");
  const image = element("img");
  const caption = element("figcaption");
  figure.append(image, caption);
  const bar = element("div", "lightbox-bar");
  const previous = element("button", "secondary", "←");
  previous.type = "button";
  previous.setAttribute("aria-label", texts.previous);
  const next = element("button", "secondary", "→");
  next.type = "button";
  next.setAttribute("aria-label", texts.next);
  const page = element("a", "", texts.viewer);
  const close = element("button", "", texts.close);
  close.type = "button";
  bar.append(previous, next, page, close);
  dialog.append(bar, figure);
  document.body.appendChild(dialog);

  let current = 0;
  let opener = null;

  function show(index) {
    current = (index + links.length) % links.length;
    const link = links[current];
    const thumb = link.querySelector("img");
    image.src = link.dataset.full;
    image.width = Number(link.dataset.width);
    image.height = Number(link.dataset.height);
    image.alt = thumb ? thumb.alt : "";
    caption.textContent = (thumb ? thumb.alt : "") + " · " + (current + 1) + " / " + links.length;
    page.setAttribute("href", link.getAttribute("href"));
    previous.disabled = next.disabled = links.length < 2;
  }

  links.forEach((link, index) => {
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      opener = link;
      show(index);
      dialog.showModal();
      close.focus();
    });
  });
  previous.addEventListener("click", () => show(current - 1));
  next.addEventListener("click", () => show(current + 1));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") { event.preventDefault(); show(current - 1); }
    if (event.key === "ArrowRight") { event.preventDefault(); show(current + 1); }
  });
  // Escape closes a modal dialog by itself; focus goes back where the reader was.
  dialog.addEventListener("close", () => {
    image.removeAttribute("src");
    if (opener) opener.focus();
    opener = null;
  });
})();
