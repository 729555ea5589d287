"""REST API v1 (JSON). See issue 3 for the contract."""

from flask import Blueprint

bp = Blueprint("api", __name__)
