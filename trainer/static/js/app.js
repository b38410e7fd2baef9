// Small progressive enhancements. No inline scripts anywhere: the Content-Security-Policy forbids them.
document.addEventListener("DOMContentLoaded", () => {
  // Focus the first field that has an error so keyboard users land where the problem is.
  const invalid = document.querySelector("[aria-invalid='true']");
  if (invalid instanceof HTMLElement) invalid.focus();
});
