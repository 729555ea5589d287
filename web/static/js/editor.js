/*
 * The process owners' editors on one file of a process's latest version: bpmn-js Modeler with the
 * Camunda 7 properties panel (.bpmn), dmn-js (.dmn) or the form-js editor (.form). "Check and
 * deploy" sends the edited file (multipart, CSRF header) to the server, which deploys it with the
 * version's other files through the same checks as any upload, and lists every problem here.
 *
 * Configuration: <script type="application/json" id="editor-config"> with kind, filename, url,
 * deploy_url, camunda_moddle (the URL of camunda-bpmn-moddle's descriptor).
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('editor-config').textContent);
  var messages = JSON.parse(document.getElementById('editor-messages').textContent);
  var container = document.getElementById('editor');
  var problems = document.getElementById('deploy-problems');
  var status = document.getElementById('editor-status');
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var editor;

  function say(text, kind) {
    status.textContent = text;
    status.className = 'alert alert--' + kind;
    status.hidden = false;
  }

  function showProblems(list) {
    var ul = problems.querySelector('ul');
    ul.innerHTML = '';
    list.forEach(function (p) {
      var li = document.createElement('li');
      var where = p.file + (p.line ? ':' + p.line : '') + (p.element ? ' · ' + p.element : '');
      var code = document.createElement('code');
      code.textContent = where;
      li.appendChild(code);
      li.appendChild(document.createTextNode(' — ' + p.message));
      ul.appendChild(li);
    });
    problems.hidden = list.length === 0;
  }

  function load() {
    return fetch(config.url, { credentials: 'same-origin' }).then(function (response) {
      if (!response.ok) {
        throw new Error(response.status);
      }
      return response.text();
    });
  }

  function openBpmn(xml) {
    return fetch(config.camunda_moddle).then(function (r) { return r.json(); }).then(function (camunda) {
      editor = new BpmnJS({
        container: container,
        keyboard: { bind: true },
        propertiesPanel: { parent: '#properties' },
        additionalModules: [
          BpmnJSPropertiesPanel.BpmnPropertiesPanelModule,
          BpmnJSPropertiesPanel.BpmnPropertiesProviderModule,
          BpmnJSPropertiesPanel.CamundaPlatformPropertiesProviderModule
        ],
        moddleExtensions: { camunda: camunda }
      });
      return editor.importXML(xml).then(function () {
        editor.get('canvas').zoom('fit-viewport', 'auto');
      });
    });
  }

  function openDmn(xml) {
    editor = new DmnJS({ container: container, keyboard: { bindTo: window } });
    return editor.importXML(xml).then(function () {
      // Open the first decision table: that is what a process owner edits (R5.2's risk matrix).
      var table = editor.getViews().filter(function (view) { return view.type === 'decisionTable'; })[0];
      if (table) {
        return editor.open(table);
      }
      return null;
    });
  }

  function openForm(json) {
    editor = new FormEditor.FormEditor({ container: container });
    return editor.importSchema(JSON.parse(json));
  }

  function saved() {
    if (config.kind === 'form') {
      return Promise.resolve(JSON.stringify(editor.saveSchema(), null, 2));
    }
    return editor.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  function deploy() {
    say(messages.checking, 'info');
    return saved().then(function (text) {
      var body = new FormData();
      var type = config.kind === 'form' ? 'application/json' : 'application/xml';
      body.append('files', new Blob([text], { type: type }), config.filename);
      return fetch(config.deploy_url, {
        method: 'POST',
        body: body,
        credentials: 'same-origin',
        headers: { 'X-CSRFToken': csrf, Accept: 'application/json' }
      });
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.status === 201) {
          showProblems([]);
          say(messages.deployed + ' ' + answer.processes.map(function (p) {
            return p.id + ' v' + p.version;
          }).join(', '), 'success');
        } else {
          showProblems(answer.problems || []);
          say(answer.problems ? messages.refused : (answer.message || messages.failed), 'error');
        }
      });
    }).catch(function (error) {
      say(messages.failed + ' ' + error.message, 'error');
    });
  }

  var open = { bpmn: openBpmn, dmn: openDmn, form: openForm }[config.kind];
  load().then(open).then(function () {
    container.setAttribute('data-ready', 'true');
  }).catch(function (error) {
    say(messages.failed + ' ' + error.message, 'error');
  });
  document.getElementById('editor-deploy').addEventListener('click', deploy);
})();
