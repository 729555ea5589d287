"""Third-party browser files are served from node_modules through an allow-list only."""

import json

import pytest

from web import create_app


@pytest.fixture
def vendor_app(tmp_path, app):
    """The test app, pointed at a small node_modules laid out like npm's."""
    modules = tmp_path / "node_modules"
    dist = modules / "bpmn-js" / "dist"
    (dist / "assets" / "bpmn-font" / "font").mkdir(parents=True)
    (modules / "bpmn-js" / "package.json").write_text(json.dumps({"version": "18.0.0"}))
    (dist / "bpmn-navigated-viewer.production.min.js").write_text("window.BpmnJS = function () {};")
    (dist / "assets" / "bpmn-font" / "font" / "bpmn.woff2").write_bytes(b"wOF2")
    (dist / "bpmn-modeler.development.js").write_text("not allowed")
    (modules / "secret.txt").write_text("outside every package")
    app.config["NODE_MODULES"] = str(modules)
    return app


def test_an_allowed_file_is_served_with_a_long_cache_lifetime(vendor_app):
    client = vendor_app.test_client()
    with client.get(
        "/static/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js?v=18.0.0"
    ) as response:
        assert response.status_code == 200
        assert response.text == "window.BpmnJS = function () {};"
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert response.cache_control.public
    with client.get("/static/vendor/bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2") as response:
        assert response.status_code == 200
        assert response.data == b"wOF2"


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/bpmn-js/dist/bpmn-modeler.development.js",  # in the package, not allowed
        "/static/vendor/bpmn-js/package.json",
        "/static/vendor/bpmn-js/../secret.txt",
        "/static/vendor/bpmn-js/dist/assets/bpmn-font/font/../../../../../secret.txt",
        "/static/vendor/left-pad/index.js",  # not a vendor package at all
        "/static/vendor/form-js/dist/form-viewer.umd.js",  # allowed, but not installed here
    ],
)
def test_anything_else_is_404(vendor_app, path):
    with vendor_app.test_client().get(path) as response:
        assert response.status_code == 404


def test_pages_link_vendor_files_with_their_version(vendor_app):
    with vendor_app.test_request_context():
        from web.vendor import vendor_url

        url = vendor_url("bpmn-js", "dist/bpmn-navigated-viewer.production.min.js")
    assert url == "/static/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js?v=18.0.0"


def test_the_default_node_modules_is_the_projects():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with app.test_request_context():
        from web.vendor import _root

        assert _root().endswith("/node_modules")
        assert not _root().startswith("node_modules")
