"""Where uploaded files live and how big they may be (config `UPLOAD_DIR`, `UPLOAD_MAX_BYTES`)."""

import os

from flask import current_app


def upload_dir() -> str:
    """The folder uploads are stored in: `UPLOAD_DIR`, else `<instance folder>/uploads`."""
    return current_app.config.get("UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads")


def max_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES") or current_app.config["MAX_CONTENT_LENGTH"])
