// Deep-linking response: post the signed JWT back to the LMS as soon as the page loads (the button stays as
// a fallback). A static file because the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-lti-autosubmit]");
  if (form) form.submit();
});
