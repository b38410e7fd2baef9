// Authoring pages: show only the answer fields the chosen item type uses. Without JavaScript every section
// stays visible (each says which types use it), so the form works either way. Loaded as a file: the CSP
// forbids inline scripts.
(() => {
  const sync = () => {
    const select = document.getElementById("id_type");
    if (!(select instanceof HTMLSelectElement)) return;
    document.querySelectorAll("fieldset[data-types]").forEach((section) => {
      const types = (section.getAttribute("data-types") || "").split(" ");
      section.hidden = !types.includes(select.value);
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    sync();
    const select = document.getElementById("id_type");
    if (select) select.addEventListener("change", sync);
  });
})();
