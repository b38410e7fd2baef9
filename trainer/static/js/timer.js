// The countdown of a timed attempt (exams, labs): driven by the server's deadline, announced politely.
(() => {
  const timer = document.getElementById("exam-timer");
  if (timer) {
    const deadline = Date.parse(timer.dataset.deadline);
    const skew = Date.parse(timer.dataset.now) - Date.now();  // server clock minus browser clock
    const display = document.getElementById("timer-display");
    const announce = document.getElementById("timer-announce");
    const marks = new Set([30, 15, 5, 1]);
    const said = new Set();
    const tick = () => {
      const left = Math.max(0, deadline - (Date.now() + skew));
      const mins = Math.floor(left / 60000), secs = Math.floor((left % 60000) / 1000);
      display.textContent = `${String(Math.floor(mins / 60)).padStart(2, "0")}:${String(mins % 60).padStart(2, "0")}:${String(secs).padStart(2, "0")}`;
      if (marks.has(mins) && secs === 0 && !said.has(mins)) { said.add(mins); announce.textContent = `${mins} minute${mins > 1 ? "s" : ""} left.`; }
      if (left <= 0) { window.location.assign(timer.dataset.expiredUrl); return; }
      window.setTimeout(tick, 1000 - (Date.now() % 1000));
    };
    tick();
  }
})();
