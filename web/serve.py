"""`upgradeflow serve`: the app under gunicorn, N worker processes over one database.

The app keeps nothing authoritative between requests (sessions are signed cookies, state is in
the database, and the instance cache serves only what the row shows is unchanged), so any number
of processes or hosts may serve one database.
"""

import click
from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


@click.command("serve")
@click.option("--workers", default=2, show_default=True, help="Worker processes.")
@click.option("--port", default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--timeout", default=30, show_default=True, help="Seconds before a stuck worker is restarted.")
def serve_command(workers, port, host, timeout):
    """Serve the app with gunicorn (production)."""
    Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "timeout": timeout,
            "accesslog": None,
            # Each worker builds its own app and connection pool after the fork.
            "preload_app": False,
        }
    ).run()
