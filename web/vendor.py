"""Third-party browser files (bpmn-js, form-js), served from node_modules through an allow-list.

The libraries come from npm (`package.json`, `package-lock.json`, `npm ci --ignore-scripts`); they
are never copied into the repository and never loaded from a CDN, so a page loads nothing from
outside this server. Only the files listed here are served: node_modules holds thousands of
files (build scripts, sources, licences of every transitive package) that no page needs.

URLs carry the package's version as `?v=`, so a long cache lifetime is safe: an upgrade changes
the URL.
"""

import json
import os
from fnmatch import fnmatch
from functools import cache

from flask import Blueprint, abort, current_app, send_from_directory, url_for

bp = Blueprint("vendor", __name__)

ONE_YEAR = 365 * 24 * 3600

# URL name -> (package folder inside node_modules, allowed paths inside it as fnmatch patterns)
PACKAGES = {
    "bpmn-js": (
        "bpmn-js",
        (
            "dist/bpmn-navigated-viewer.production.min.js",
            "dist/bpmn-modeler.production.min.js",
            "dist/assets/diagram-js.css",
            "dist/assets/bpmn-js.css",
            "dist/assets/bpmn-font/css/bpmn.css",
            "dist/assets/bpmn-font/font/bpmn.*",
        ),
    ),
    "form-js": (
        "@bpmn-io/form-js",
        (
            "dist/form-viewer.umd.js",
            "dist/form-editor.umd.js",
            "dist/assets/form-js.css",
            "dist/assets/form-js-editor.css",
            "dist/assets/draggle.css",
            "dist/assets/flatpickr/light.css",
        ),
    ),
    # The modeller's Camunda properties panel (issue 4) and the Camunda 7 attributes it edits.
    "bpmn-js-properties-panel": ("bpmn-js-properties-panel", ("dist/bpmn-js-properties-panel.umd.js",)),
    "properties-panel": ("@bpmn-io/properties-panel", ("dist/assets/properties-panel.css",)),
    "camunda-bpmn-moddle": ("camunda-bpmn-moddle", ("resources/camunda.json",)),
    "dmn-js": (
        "dmn-js",
        (
            "dist/dmn-modeler.development.js",  # the minified build logs an Inferno console error
            "dist/assets/*.css",
            "dist/assets/dmn-font/css/dmn.css",
            "dist/assets/dmn-font/font/dmn.*",
        ),
    ),
}


def _root():
    root = current_app.config.get("NODE_MODULES") or "node_modules"
    if not os.path.isabs(root):
        # Relative to the project (the folder above web/), not to wherever the server was started.
        root = os.path.join(os.path.dirname(current_app.root_path), root)
    return root


def allowed(name: str, path: str) -> bool:
    """Whether `path` of vendor package `name` may be served."""
    package = PACKAGES.get(name)
    return package is not None and ".." not in path.split("/") and any(fnmatch(path, p) for p in package[1])


@cache
def _version(package_json: str) -> str:
    try:
        with open(package_json, encoding="utf-8") as file:
            return str(json.load(file).get("version", "0"))
    except (OSError, ValueError):
        return "0"


def vendor_url(name: str, path: str) -> str:
    """The URL of an allowed vendor file, with the installed version for cache busting."""
    folder, _ = PACKAGES[name]
    version = _version(os.path.join(_root(), folder, "package.json"))
    return url_for("vendor.file", name=name, path=path, v=version)


@bp.get("/static/vendor/<name>/<path:path>")
def file(name, path):
    if not allowed(name, path):
        abort(404)
    folder, _ = PACKAGES[name]
    response = send_from_directory(os.path.join(_root(), folder), path, max_age=ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def register(app):
    app.register_blueprint(bp)
    app.jinja_env.globals["vendor_url"] = vendor_url
