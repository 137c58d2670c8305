// The admin's only script, a file because the pages' CSP refuses inline script:
// a form with data-confirm asks before it is sent (e.g. cancelling a worker's sign-up).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
