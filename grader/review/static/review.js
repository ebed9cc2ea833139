// The review app's pages: typeset math with KaTeX, save every change at once, keyboard navigation.
"use strict";

// KaTeX's limits keep a hostile answer from hanging the page: macro expansion and sizes are bounded, and an
// error (or a nesting too deep for the parser) leaves the TeX as plain text.
const KATEX_OPTIONS = { throwOnError: false, trust: false, strict: "ignore", maxExpand: 500, maxSize: 20 };

function typeset() {
  if (!window.katex) return; // KaTeX missing (setup.sh not run): the TeX stays readable as text
  for (const element of document.querySelectorAll(".math")) {
    const tex = element.textContent;
    try {
      katex.render(tex, element, { ...KATEX_OPTIONS, displayMode: element.classList.contains("block") });
    } catch (error) {
      element.textContent = tex;
      element.classList.add("math-error");
    }
  }
}

function grading(form) {
  const points = form.querySelector("#points");
  const comment = form.querySelector("#comment");
  const status = document.getElementById("status");
  const items = [...form.querySelectorAll("button.item")];
  const most = Number(form.dataset.max);
  let version = Number(form.dataset.version);
  let saving = Promise.resolve(); // saves go one after another, each with the version the last one returned
  let stale = false;
  let typing = null;

  const ticked = () => items.filter((b) => b.getAttribute("aria-pressed") === "true");
  const show = (text, kind) => {
    status.textContent = text;
    status.className = `status ${kind}`;
  };

  function save() {
    clearTimeout(typing);
    typing = null;
    if (stale) return saving;
    const body = {
      points: points.value === "" ? null : Number(points.value),
      comment: comment.value,
      rubric: ticked().map((b) => Number(b.dataset.index)),
      version,
    };
    saving = saving.then(async () => {
      show("saving…", "busy");
      try {
        const response = await fetch(form.dataset.url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ ...body, version }),
        });
        const reply = await response.json();
        if (response.ok) {
          version = reply.version;
          document.getElementById("progress").textContent = `${reply.graded} / ${reply.total} graded`;
          document.getElementById("all-progress").textContent = `${reply.all_graded} / ${reply.all_total}`;
          show(body.points === null ? "comment saved; no points yet" : `saved: ${body.points} points`, "saved");
        } else {
          if (response.status === 409) {
            stale = true;
            for (const field of form.querySelectorAll("input, textarea, button")) field.disabled = true;
          }
          show(`not saved: ${reply.error}`, "refused");
        }
      } catch (error) {
        show(`not saved: ${error}`, "refused");
      }
    });
    return saving;
  }

  function clamp() {
    if (points.value === "") return;
    const value = Number(points.value);
    points.value = Number.isFinite(value) ? String(Math.min(most, Math.max(0, value))) : "";
  }

  for (const item of items) {
    item.addEventListener("click", () => {
      item.setAttribute("aria-pressed", item.getAttribute("aria-pressed") === "true" ? "false" : "true");
      const sum = ticked().reduce((total, b) => total + Number(b.dataset.points), 0);
      points.value = String(Math.min(most, sum));
      save();
    });
  }
  points.addEventListener("change", () => {
    clamp();
    save();
  });
  comment.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(save, 600);
  });
  comment.addEventListener("blur", () => typing !== null && save());
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // Enter in the points field saves, it does not reload the page
    clamp();
    save();
  });

  // Leaving the page waits for the saves in flight, so nothing typed is lost by moving on.
  const go = (href) => (typing !== null ? save() : saving).then(() => window.location.assign(href));
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.matches("input, textarea")) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const keys = { n: form.dataset.nextUngraded, j: form.dataset.next, k: form.dataset.previous };
    if (keys[event.key]) {
      event.preventDefault();
      go(keys[event.key]);
    } else if (/^[1-9]$/.test(event.key) && items[Number(event.key) - 1]) {
      items[Number(event.key) - 1].click();
    }
  });
  for (const id of ["previous", "next", "next-ungraded"]) {
    document.getElementById(id).addEventListener("click", (event) => {
      event.preventDefault();
      go(event.currentTarget.href);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  typeset();
  const form = document.getElementById("grading");
  if (form) grading(form);
});
