/*
 * Renders a Camunda Form with form-js (window.FormViewer) and submits it to the server as JSON.
 *
 * The server validates every submission (engine Form.validate). A rejected one answers 422 with
 * {"errors": {"risks.0.measures": ["…"]}}; those paths are mapped back to form-js field ids so
 * each message appears under the field it belongs to, and also in a summary at the top that
 * links to the fields (for keyboard and screen-reader users). Nothing is lost from the form.
 *
 * Configuration comes from <script type="application/json" id="form-config"> (see _form.html).
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('form-config').textContent);
  var messages = config.messages;
  var english = config.locale === 'en';
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var root = document.getElementById('form-root');
  var summary = document.getElementById('form-errors');
  var submitButton = document.getElementById('form-submit');
  var status = document.getElementById('form-status');
  var form = null;
  var fieldsByPath = {};
  var busy = false;

  // -- form-js speaks English only: its validation messages and a few words of its UI ---------

  var VALIDATION = [
    [/^Field is required\.$/, 'required'],
    [/^Field must have minimum value of (.+)\.$/, 'min'],
    [/^Field must have maximum value of (.+)\.$/, 'max'],
    [/^Field must have minimum length of (.+)\.$/, 'minLength'],
    [/^Field must have maximum length of (.+)\.$/, 'maxLength'],
    [/^Field must match pattern .*$/, 'pattern'],
    [/^Field must be a valid email\.$/, 'email'],
    [/^Value is not a number\.$/, 'number'],
    [/^Value is expected to be an integer\.$/, 'integer'],
    [/^Value is expected to have at most (\d+) decimal digits?\.$/, 'decimals']
  ];
  var UI_TEXT = messages.ui;  // form-js's English words -> the reader's language

  function fill(template, n) {
    return String(template).replace('{n}', n);
  }

  function labelled(label, message) {
    return label ? messages.labelled.replace('{label}', label).replace('{message}', message) : message;
  }

  function localizeMessage(message) {
    message = String(message);
    // The engine writes "中文 / English"; show the reader's language.
    var parts = message.split(' / ');
    if (parts.length === 2) {
      return english ? parts[1] : parts[0];
    }
    for (var i = 0; i < VALIDATION.length; i++) {
      var match = VALIDATION[i][0].exec(message);
      if (match) {
        return fill(messages.validation[VALIDATION[i][1]], match[1]);
      }
    }
    return message;
  }

  function localizeErrors(errors) {
    var changed = false;
    function walk(node) {
      var out = Array.isArray(node) ? [] : {};
      Object.keys(node).forEach(function (key) {
        var value = node[key];
        if (typeof value === 'string') {
          var local = localizeMessage(value);
          changed = changed || local !== value;
          out[key] = local;
        } else if (value && typeof value === 'object') {
          out[key] = walk(value);
        } else {
          out[key] = value;
        }
      });
      return out;
    }
    var result = walk(errors || {});
    return changed ? result : null;
  }

  function localizeDom(container) {
    var walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      var text = node.data.trim();
      var expand = /^Expand all \((\d+)\)$/.exec(text);
      if (UI_TEXT[text] && UI_TEXT[text] !== text) {
        node.data = node.data.replace(text, UI_TEXT[text]);
      } else if (expand) {
        node.data = node.data.replace(text, fill(messages.expandAll, expand[1]));
      }
    }
    container.querySelectorAll('[placeholder="Search"]').forEach(function (el) {
      el.setAttribute('placeholder', UI_TEXT.Search);
    });
    container.querySelectorAll('[aria-label]').forEach(function (el) {
      var label = el.getAttribute('aria-label');
      var match = /^Remove list item (\d+)$/.exec(label);
      if (UI_TEXT[label] && UI_TEXT[label] !== label) {
        el.setAttribute('aria-label', UI_TEXT[label]);
      } else if (match) {
        el.setAttribute('aria-label', fill(messages.removeItem, match[1]));
      }
    });
  }

  // -- a form may carry its English wording: properties {"label_en": "…", "description_en": "…"} --

  function useEnglishLabels(components) {
    (components || []).forEach(function (component) {
      var properties = component.properties || {};
      if (properties.label_en) {
        component.label = properties.label_en;
      }
      if (properties.description_en) {
        component.description = properties.description_en;
      }
      useEnglishLabels(component.components);
    });
  }

  // -- server error paths -> form-js field ids -------------------------------------------------

  function indexFields(components, prefix) {
    (components || []).forEach(function (component) {
      var path = component.path ? component.path.split('.') : [];
      if (component.type === 'group') {
        indexFields(component.components, prefix.concat(path));
      } else if (component.type === 'dynamiclist') {
        var listPath = prefix.concat(path.length ? path : [component.key]);
        fieldsByPath[listPath.join('.')] = component;
        indexFields(component.components, listPath);
      } else if (component.key) {
        fieldsByPath[prefix.concat(component.key.split('.')).join('.')] = component;
      }
    });
  }

  function resolve(errorPath) {
    var parts = String(errorPath).split('.');
    var indexes = parts.filter(function (part) { return /^\d+$/.test(part); }).map(Number);
    var template = parts.filter(function (part) { return !/^\d+$/.test(part); }).join('.');
    return { field: fieldsByPath[template] || null, indexes: indexes };
  }

  function domId(fieldId, indexes) {
    return ['fjs-form', form._id, fieldId].join('-') + indexes.map(function (i) { return '_' + i; }).join('');
  }

  function focusField(fieldId, indexes) {
    var element = document.getElementById(domId(fieldId, indexes));
    if (!element) {
      element = root.querySelector('[id^="' + domId(fieldId, indexes) + '"]');
    }
    if (element) {
      element.scrollIntoView({ block: 'center' });
      element.focus();
    }
  }

  function showSummary(items) {
    var list = summary.querySelector('ul');
    list.innerHTML = '';
    items.forEach(function (item) {
      var li = document.createElement('li');
      if (item.field) {
        var link = document.createElement('a');
        link.href = '#';
        link.textContent = labelled(item.label, item.message);
        link.addEventListener('click', function (event) {
          event.preventDefault();
          focusField(item.field, item.indexes);
        });
        li.appendChild(link);
      } else {
        li.textContent = labelled(item.label, item.message);
      }
      list.appendChild(li);
    });
    summary.hidden = items.length === 0;
    if (items.length) {
      summary.focus();
      summary.scrollIntoView({ block: 'start' });
    }
  }

  function rowLabel(label, indexes) {
    if (!indexes.length) {
      return label;
    }
    var rows = indexes.map(function (i) { return fill(messages.row, i + 1); });
    return rows.join(' ') + ' ' + (label || '');
  }

  /** Put the server's errors onto the form-js fields and list them in the summary. */
  function showServerErrors(errors) {
    var fieldErrors = {};
    var items = [];
    Object.keys(errors || {}).forEach(function (path) {
      var found = resolve(path);
      var texts = [].concat(errors[path]).map(localizeMessage);
      var field = found.field;
      if (field && field.type !== 'dynamiclist') {
        if (found.indexes.length) {
          var node = fieldErrors[field.id] = fieldErrors[field.id] || {};
          found.indexes.slice(0, -1).forEach(function (i) { node = node[i] = node[i] || {}; });
          node[found.indexes[found.indexes.length - 1]] = texts;
        } else {
          fieldErrors[field.id] = texts;
        }
      }
      texts.forEach(function (text) {
        items.push({
          field: field && field.type !== 'dynamiclist' ? field.id : null,
          indexes: found.indexes,
          label: field ? rowLabel(field.label, found.indexes) : (path === '_schema' ? '' : path),
          message: text
        });
      });
    });
    // form-js has no public API to set errors from outside; its own validate() stores them in
    // the state this way, and every field renders what it finds there under its id.
    form._setState({ errors: fieldErrors });
    showSummary(items);
  }

  function showClientErrors(errors) {
    var items = [];
    Object.keys(errors).forEach(function (fieldId) {
      var field = form.get('formFieldRegistry').get(fieldId);
      (function collect(node, indexes) {
        if (Array.isArray(node)) {
          node.forEach(function (text) {
            items.push({ field: fieldId, indexes: indexes, label: rowLabel(field && field.label, indexes),
                         message: localizeMessage(text) });
          });
        } else if (node && typeof node === 'object') {
          Object.keys(node).forEach(function (i) { collect(node[i], indexes.concat([Number(i)])); });
        }
      })(errors[fieldId], []);
    });
    showSummary(items);
  }

  function setBusy(value, text) {
    busy = value;
    if (submitButton) {
      submitButton.disabled = value;
      submitButton.setAttribute('aria-busy', value ? 'true' : 'false');
    }
    if (status) {
      status.textContent = text || '';
    }
  }

  function send(data) {
    setBusy(true, messages.sending);
    fetch(config.submitUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRFToken': csrfToken
      },
      body: JSON.stringify({ data: data, instance_id: config.instanceId })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.redirect) {
          window.location.assign(body.redirect);
          return;
        }
        setBusy(false);
        if (response.status === 422 && body.errors) {
          showServerErrors(body.errors);
        } else {
          showSummary([{ field: null, indexes: [], label: '', message: messages.failed + ' ' + localizeMessage(body.message || response.statusText) }]);
        }
      });
    }).catch(function () {
      setBusy(false);
      showSummary([{ field: null, indexes: [], label: '', message: messages.network }]);
    });
  }

  function onSubmit(event) {
    if (busy || config.readOnly) {
      return;
    }
    var errors = event.errors || {};
    if (Object.keys(errors).length) {
      showClientErrors(errors);
      return;
    }
    send(event.data);
  }

  if (!config.schema) {
    if (submitButton) {
      submitButton.addEventListener('click', function () { if (!busy) { send({}); } });
    }
    return;
  }

  // -- what people typed, put into a text block, stays text ------------------------------------
  // A text block's template (`{{requirement_request.title}}`) is rendered as markdown and HTML
  // once the values are put in: a title typed as `[請先重新登入](https://…)` became a live link
  // in another department's form. Its values are escaped for markdown, then for HTML, before
  // they go in. Only the text block asks for `strict` without a sanitizer of its own (the html
  // block escapes for HTML itself; labels and descriptions show text as text).
  function escapeMarkdown(value) {
    if (value === null || value === undefined) {
      return '';  // as form-js puts nothing in for a value not there (String(null) is "null")
    }
    return FormViewer.escapeHTML(String(value).replace(/[\\`*_[\]()#+\-.!|~]/g, '\\$&'));
  }

  class TextSafeTemplating extends FormViewer.FeelersTemplating {
    evaluate(template, context, options) {
      var given = options || {};
      if ('strict' in given && !given.sanitizer) {
        given = Object.assign({}, given, { sanitizer: escapeMarkdown });
      }
      return super.evaluate(template, context, given);
    }
  }

  if (english) {
    useEnglishLabels(config.schema.components);
  }
  indexFields(config.schema.components, []);
  // debounce: false — form-js otherwise holds typed text back for 300 ms, and Enter pressed in a
  // text field (or a quick click on 提交) submits the form without the last keystrokes.
  form = new FormViewer.Form({
    container: root,
    properties: { readOnly: !!config.readOnly },
    debounce: false,
    additionalModules: [{ templating: ['type', TextSafeTemplating] }]
  });
  form.on('submit', onSubmit);
  form.on('changed', function (state) {
    var local = localizeErrors(state.errors);
    if (local) {
      form._setState({ errors: local });
    }
  });
  new MutationObserver(function () { localizeDom(root); })
    .observe(root, { childList: true, subtree: true, characterData: true });

  form.importSchema(config.schema, config.data || {}).then(function () {
    localizeDom(root);
    var formElement = root.querySelector('form');
    if (formElement) {
      formElement.setAttribute('aria-label', messages.form);
    }
  }).catch(function (error) {
    showSummary([{ field: null, indexes: [], label: '', message: messages.loadFailed + ' ' + error.message }]);
  });

  if (submitButton) {
    submitButton.addEventListener('click', function () { form.submit(); });
  }
})();
