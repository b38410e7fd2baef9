// Exam page: time per item, flag toggling (the countdown is timer.js), and no answer lost to a click made
// before htmx was ready.
(() => {
  const form = document.getElementById("exam-form");
  if (form) {
    let shown = Date.now();
    const stamp = () => {
      const t = form.querySelector("input[name=time_ms]");
      if (t) { t.value = String(Date.now() - shown); shown = Date.now(); }
    };
    form.addEventListener("change", stamp, true);
    form.addEventListener("submit", stamp, true);

    // A choice made while the page's scripts were still loading fired its change event before htmx listened:
    // once everything is loaded, save whatever differs from what the server rendered.
    const differs = (el) => {
      if (el.type === "radio" || el.type === "checkbox") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") return Array.from(el.options).some((o) => o.selected !== o.defaultSelected);
      if (el.tagName === "TEXTAREA" || ["text", "number", "search"].includes(el.type)) {
        return el.value !== el.defaultValue;
      }
      return false;
    };
    window.addEventListener("load", () => {
      if (window.htmx && Array.from(form.elements).some(differs)) window.htmx.trigger(form, "change");
    });
  }
})();
