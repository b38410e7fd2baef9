// Exam page: time per item, flag toggling (the countdown is timer.js).
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
  }
})();
