/*
 * A button marked `data-print` prints the page. (A handler in the markup, onclick="…", is
 * inline script, which the app's content policy does not run.)
 */
(function () {
  'use strict';

  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.addEventListener('click', function () { window.print(); });
  });
})();
