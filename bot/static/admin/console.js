// Behaviour every console page shares, kept out of the HTML so the Content-Security-Policy can
// forbid inline script: confirmations before a form is sent, selects that submit their form,
// and "back" links.
(function () {
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);
  document.addEventListener('change', function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute('data-autosubmit') && field.form) { field.form.submit(); }
  });
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-back]');
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
})();
