// Keyboard shortcuts and answer timing for practice. Loaded as a file: the CSP forbids inline scripts.
(() => {
  const started = () => {
    const form = document.getElementById("answer-form");
    if (form && !form.dataset.started) form.dataset.started = String(Date.now());
  };
  document.addEventListener("DOMContentLoaded", started);
  document.addEventListener("htmx:afterSwap", started);
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.id === "answer-form") {
      const t = form.querySelector("input[name=time_ms]");
      if (t && form.dataset.started) t.value = String(Date.now() - Number(form.dataset.started));
    }
  }, true);
  document.addEventListener("keydown", (e) => {
    const tag = (e.target && e.target.tagName) || "";
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) && !(e.target.type === "radio" || e.target.type === "checkbox")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const form = document.getElementById("answer-form");
    const key = e.key.toLowerCase();
    if (form) {
      let n = Number(key);
      if (!n && key.length === 1 && key >= "a" && key <= "f") n = key.charCodeAt(0) - 96;
      const input = n ? form.querySelector(`input[data-shortcut="${n}"]`) : null;
      if (input) { e.preventDefault(); input.checked = input.type === "checkbox" ? !input.checked : true; input.focus(); return; }
      if (key === "enter") { e.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (key === "n") { const next = document.getElementById("next-form"); if (next) { e.preventDefault(); next.requestSubmit(); } }
    if (key === "f") { const flag = document.getElementById("flag-button"); if (flag) { e.preventDefault(); flag.click(); } }
  });
})();
