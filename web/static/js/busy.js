/*
 * While a page's form is being sent, say so. The button that sent it is disabled (a bulk
 * migration or a claim is not sent twice by an impatient second click) and a status message
 * appears beside it, which screen readers announce. The answer replaces the page; when the
 * browser shows this page again from its back/forward cache, the buttons come back.
 *
 * The message is the page's `data-busy` attribute on <body> (translated in base.html).
 * A form marked `data-busy="off"` is left alone.
 */
(function () {
  'use strict';

  var text = document.body.getAttribute('data-busy');

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute('method') || '').toLowerCase() !== 'post' ||
        form.getAttribute('data-busy') === 'off') {
      return;
    }
    var button = event.submitter || form.querySelector('[type="submit"]');
    // After the browser has read the form: a disabled button would not send its name and value.
    setTimeout(function () {
      if (button) {
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
      }
      var status = form.querySelector('.busy-status');
      if (!status) {
        status = document.createElement('span');
        status.className = 'busy-status';
        status.setAttribute('role', 'status');
        (button && button.parentNode ? button.parentNode : form).appendChild(status);
      }
      status.textContent = text;
    }, 0);
  });

  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll('[aria-busy="true"]').forEach(function (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    });
    document.querySelectorAll('.busy-status').forEach(function (status) { status.remove(); });
  });
})();
