/*
 * Draws a process version's BPMN diagram with bpmn-js (NavigatedViewer: pan and zoom, no editing)
 * and marks this instance's progress: completed elements, the steps waiting now, and the element
 * that failed. Loop counts above 1 are shown as a small badge on the element.
 *
 * Configuration: <script type="application/json" id="diagram-config"> with url, completed,
 * counts, waiting and error (see instances.py `_diagram`); a process version's page adds
 * waiting_counts ({element id: instances waiting there}), drawn as a badge on each task.
 */
(function () {
  'use strict';

  var container = document.getElementById('diagram');
  if (!container) {
    return;
  }
  var config = JSON.parse(document.getElementById('diagram-config').textContent);
  var messages = JSON.parse(document.getElementById('diagram-messages').textContent);
  var viewer = new BpmnJS({ container: container, keyboard: { bind: true } });

  function mark(registry, canvas, ids, marker) {
    ids.forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      }
    });
  }

  function failed() {
    container.innerHTML = '';
    var p = document.createElement('p');
    p.className = 'alert alert--error';
    p.textContent = messages.failed;
    container.appendChild(p);
  }

  fetch(config.url, { credentials: 'same-origin' })
    .then(function (response) {
      if (!response.ok) {
        throw new Error(response.status);
      }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var loading = container.querySelector('.diagram__loading');
      if (loading) {
        loading.remove();
      }
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      var overlays = viewer.get('overlays');
      mark(registry, canvas, config.completed, 'uf-completed');
      mark(registry, canvas, config.waiting, 'uf-waiting');
      if (config.error) {
        mark(registry, canvas, [config.error], 'uf-error');
      }
      Object.keys(config.counts || {}).forEach(function (id) {
        var count = config.counts[id];
        if (count > 1 && registry.get(id)) {
          var badge = document.createElement('span');
          badge.className = 'uf-count';
          badge.textContent = '×' + count;
          badge.title = messages.times.replace('{n}', count);
          overlays.add(id, { position: { top: -10, right: 10 }, html: badge });
        }
      });
      Object.keys(config.waiting_counts || {}).forEach(function (id) {
        if (registry.get(id)) {
          var waitingBadge = document.createElement('span');
          waitingBadge.className = 'uf-waiting-count';
          waitingBadge.textContent = config.waiting_counts[id];
          waitingBadge.setAttribute('data-element', id);
          overlays.add(id, { position: { bottom: 10, left: -10 }, html: waitingBadge, scale: { min: 1 } });
        }
      });
      canvas.zoom('fit-viewport', 'auto');
      // On a phone the whole diagram is too small to read: show the waiting step instead.
      var waiting = config.waiting.map(function (id) { return registry.get(id); }).filter(Boolean);
      if (container.clientWidth < 600 && waiting.length) {
        canvas.zoom(0.9);
        canvas.scrollToElement(waiting[0]);
      }
      container.setAttribute('data-ready', 'true');
    })
    .catch(failed);

  document.querySelectorAll('[data-zoom]').forEach(function (button) {
    button.addEventListener('click', function () {
      var canvas = viewer.get('canvas');
      var action = button.getAttribute('data-zoom');
      if (action === 'fit') {
        canvas.zoom('fit-viewport', 'auto');
      } else {
        canvas.zoom(canvas.zoom() * (action === 'in' ? 1.25 : 0.8));
      }
    });
  });
})();
