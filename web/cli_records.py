"""`upgradeflow documents expire`, `upgradeflow backup DEST` and `upgradeflow restore SRC`."""

import click
from flask.cli import with_appcontext

import engine

from .extensions import db
from .extensions import engine_clock as clock
from .uploads import upload_dir

# The CLI acts as the system administrator: destruction is an admin's act (R4.3.5).
CLI_ADMIN = engine.Actor("cli", frozenset(), is_admin=True)


@click.group("documents")
def documents_group():
    """The document library (R4)."""


@documents_group.command("expire")
@click.option("--confirm", is_flag=True, help="Destroy what is due (without it: only list).")
@with_appcontext
def documents_expire(confirm):
    """List document versions past their retention; destroy them only with --confirm."""
    due = engine.expire_documents(db.session, CLI_ADMIN, clock=clock(), confirm=confirm)
    files = engine.expire_uploads(db.session, CLI_ADMIN, clock=clock(), confirm=confirm)
    db.session.commit()
    state = "destroyed" if confirm else "due"
    for doc in due:
        click.echo(f"{state}: instance {doc.instance_id} {doc.document_id} v{doc.version} {doc.sha256}")
    for file in files:
        click.echo(
            f"{state}: instance {file.instance_id} upload {file.id} {file.kind} {file.filename} {file.sha256}"
        )
    click.echo(f"{len(due)} document version(s) {'destroyed' if confirm else 'due; run with --confirm'}")
    click.echo(f"{len(files)} uploaded file(s) {'destroyed' if confirm else 'due'}")
    if confirm:  # the files go once their destruction is committed; any left by an earlier run too
        engine.delete_unused_files(db.session, upload_dir(), clock()())


@click.command("backup")
@click.argument("dest", type=click.Path())
@with_appcontext
def backup_command(dest):
    """Write a consistent snapshot of the database into folder DEST (the app may keep running)."""
    if not dest.strip():  # "" read as the current folder, refused as "not an empty folder"
        raise click.BadParameter("name the folder to write the backup into", param_hint="DEST")
    try:
        info = engine.backup_database(db.engine, dest, upload_dir())
    except engine.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup ({info.format}) written to {info.path}: {sum(info.rows.values())} rows")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@with_appcontext
def restore_command(src):
    """Restore the snapshot in folder SRC into this (migrated, empty) database."""
    try:
        rows = engine.restore_database(db.engine, src, upload_dir())
    except engine.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {sum(rows.values())} rows from {src}")


def register(app):
    app.cli.add_command(documents_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
