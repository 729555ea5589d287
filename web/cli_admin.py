"""`upgradeflow replay | verify | migrate`: issue 5's admin commands. They act as a system
administrator named "cli" (recorded as the actor in the event log) and commit per instance."""

import sys

import click
from flask.cli import with_appcontext

import engine

from .extensions import db
from .extensions import engine_clock as clock

CLI_ADMIN = engine.Actor("cli", frozenset(), is_admin=True)
ROW_ID = click.IntRange(1, 2**31 - 1)  # ids and versions: what the id columns hold


def _divergence(report) -> str:
    found = report.divergence or {}
    where = f"event {found['seq']} ({found['event']}): " if found.get("seq") else ""
    return where + (found.get("reason") or "")


@click.command("replay")
@click.argument("instance_id", type=ROW_ID)
@click.option("--version", type=ROW_ID, help="Replay on this version of its process (default: its own).")
@click.option("--dry-run", is_flag=True, help="Only compare; keep the stored state.")
@with_appcontext
def replay_command(instance_id, version, dry_run):
    """Rebuild INSTANCE from its event log and compare it with the stored state. Without
    --dry-run, the replayed state replaces the stored one (the old one kept for undo).
    Exit code 1 when they differ."""
    try:
        report = engine.replay_instance(db.session, instance_id, CLI_ADMIN, version, dry_run, clock())
    except engine.EngineError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    state = "matches" if report.matches else f"differs at {_divergence(report)}"
    click.echo(f"instance {report.instance_id} on version {report.version}: {state}")
    if report.replaced:
        click.echo("the stored state was replaced by the replay (undo puts it back)")
    sys.exit(0 if report.matches else 1)


@click.command("verify")
@with_appcontext
def verify_command():
    """Replay every running instance; print those whose stored state differs (exit code 1)."""
    reports = engine.verify_instances(db.session, CLI_ADMIN, clock())
    db.session.rollback()  # a dry run: nothing to keep
    for report in reports:
        click.echo(f"instance {report.instance_id} differs at {_divergence(report)}")
    click.echo(f"{len(reports)} instance(s) differ from their replay")
    sys.exit(1 if reports else 0)


@click.command("migrate")
@click.option("--process", "process_id", required=True, help="The process id, e.g. software_upgrade.")
@click.option("--to", "version", required=True, type=ROW_ID, help="The version to move to.")
@click.option("--dry-run", is_flag=True, help="Only say what would happen.")
@with_appcontext
def migrate_command(process_id, version, dry_run):
    """Move every running instance of PROCESS not on version N to it, each in its own
    transaction; print each instance's outcome (exit code 1 if any could not move)."""
    try:
        ids = engine.instances_to_migrate(db.session, process_id, version, CLI_ADMIN)
    except engine.EngineError as error:
        raise click.ClickException(str(error)) from None
    failed = 0
    for result in engine.migrate_instances(db.session, ids, version, CLI_ADMIN, dry_run, clock()):
        if result.migrated:
            db.session.commit()
        else:
            db.session.rollback()
        if result.ok:
            done = "would move" if dry_run else "moved"
            click.echo(
                f"instance {result.instance_id}: {done} {result.from_version} -> {version} ({result.method})"
            )
        else:
            failed += 1
            click.echo(f"instance {result.instance_id}: refused: {result.reason}")
    click.echo(f"{len(ids) - failed} of {len(ids)} instance(s) {'can move' if dry_run else 'migrated'}")
    sys.exit(1 if failed else 0)


def register(app):
    for command in (replay_command, verify_command, migrate_command):
        app.cli.add_command(command)
