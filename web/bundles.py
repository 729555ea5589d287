"""Uploaded bundles and deployed source files, shared by the REST API and the pages.

An upload is a multipart request with one file part per `.bpmn`, `.dmn` or `.form` file; the
engine checks the files (`engine.deploy_bundle`). Here only the request's shape is checked: at
least one file, named, no name twice. Sources go back out with the bytes they were deployed with.
"""

from flask import Response
from werkzeug.exceptions import BadRequest

import engine

# `.bpmn20.xml` and `.dmn11.xml` are the older names of the same XML files.
CONTENT_TYPES = {
    ".bpmn": "application/xml",
    ".dmn": "application/xml",
    ".xml": "application/xml",
    ".form": "application/json",
}


def uploaded_bundle(files) -> dict[str, bytes]:
    """{file name: bytes} of a request's file parts (a werkzeug MultiDict of FileStorage).

    Raises BadRequest when there is no file, a file has no name, or two files share a name.
    """
    bundle = {}
    for _, storage in files.items(multi=True):
        # A browser may send a folder path; only the file's own name matters.
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name and not storage.filename:
            continue  # an empty file input of an HTML form
        if not name:
            raise BadRequest("a file part has no file name")
        if engine.unsendable_name(name):
            raise BadRequest(
                f"{name!r}: a file name may not hold control characters or exceed 200 characters"
            )
        if name in bundle:
            raise BadRequest(f"{name}: given more than once")
        bundle[name] = storage.read()
    if not bundle:
        raise BadRequest("no files: send one or more .bpmn, .dmn or .form files as multipart parts")
    return bundle


def content_type(filename: str) -> str:
    """The media type a deployed file is served with."""
    suffix = "." + filename.rsplit(".", 1)[-1]
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def source_response(sources: dict[str, str], filename: str, *, download: bool) -> Response | None:
    """The deployed file's exact bytes (stored as UTF-8 text) with its media type, or None."""
    if filename not in sources:
        return None
    response = Response(
        sources[filename].encode("utf-8"), content_type=content_type(filename) + "; charset=utf-8"
    )
    if download:
        response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.cache_control.private = True  # a version never changes, but it is not public
    response.cache_control.max_age = 3600
    return response
