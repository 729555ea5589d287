/*
 * Opens a BPMN file chosen on this computer in bpmn-js (NavigatedViewer) without uploading it,
 * and reports the import's warnings in #import-report: data-status is "ok", "warnings" or
 * "failed", so a check can tell whether bpmn-js drew the diagram.
 */
(function () {
  'use strict';

  var input = document.getElementById('viewer-file');
  var report = document.getElementById('import-report');
  var messages = JSON.parse(document.getElementById('viewer-messages').textContent);
  var viewer = new BpmnJS({ container: document.getElementById('viewer'), keyboard: { bind: true } });

  function show(status, text, details) {
    report.setAttribute('data-status', status);
    report.className = status === 'failed' ? 'alert alert--error' : status === 'warnings' ? 'alert alert--warning' : 'alert alert--success';
    report.textContent = text;
    if (details && details.length) {
      var list = document.createElement('ul');
      details.forEach(function (detail) {
        var item = document.createElement('li');
        item.textContent = detail;
        list.appendChild(item);
      });
      report.appendChild(list);
    }
  }

  function open(xml) {
    return viewer.importXML(xml)
      .then(function (result) {
        var warnings = (result.warnings || []).map(function (w) { return w.message; });
        viewer.get('canvas').zoom('fit-viewport', 'auto');
        if (warnings.length) {
          show('warnings', messages.warnings.replace('{n}', warnings.length), warnings);
        } else {
          show('ok', messages.ok);
        }
      })
      .catch(function (error) {
        show('failed', messages.failed + ' ' + error.message, (error.warnings || []).map(function (w) { return w.message; }));
      });
  }

  input.addEventListener('change', function () {
    var file = input.files[0];
    if (!file) {
      return;
    }
    report.setAttribute('data-status', 'loading');
    file.text().then(open);
  });
})();
