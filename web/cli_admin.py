"""`upgradeflow replay | verify | migrate`: issue 5's admin commands. They act as a system
administrator named "cli" (recorded as the actor in the event log) and commit per instance."""

import sys

import click
from flask.cli import with_appcontext

import engine

from . import jsontext
from .extensions import db
from .extensions import engine_clock as clock
from .schemas import STATUSES

CLI_ADMIN = engine.Actor("cli", frozenset(), is_admin=True)
ROW_ID = click.IntRange(1, 2**31 - 1)  # ids and versions: what the id columns hold


class _Text(click.ParamType):
    """Text that can be stored: an argument whose bytes were not UTF-8 (a terminal in Big5, say)
    arrives with lone surrogates, which no page or API answer could show again."""

    name = "text"

    def convert(self, value, param, ctx):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(f"{value!r} is not UTF-8 text (is the terminal's encoding UTF-8?)", param, ctx)
        return value


TEXT = _Text()


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
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only instances in this status (repeatable; default: every instance).",
)
@with_appcontext
def verify_command(statuses):
    """Replay every instance (or those in --status); print those whose stored state differs from
    their replay, or that cannot be replayed at all (exit code 1)."""
    reports = engine.verify_instances(db.session, CLI_ADMIN, clock(), statuses=set(statuses))
    db.session.rollback()  # a dry run: nothing to keep
    for report in reports:
        click.echo(f"instance {report.instance_id} differs at {_divergence(report)}")
    click.echo(f"{len(reports)} instance(s) differ from their replay")
    sys.exit(1 if reports else 0)


@click.command("migrate")
@click.option(
    "--process", "process_id", type=TEXT, required=True, help="The process id, e.g. software_upgrade."
)
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


# -- watch and repair (issue 5: "available in the web UI, the REST API and the CLI") ----------


@click.group("instances")
def instances_group():
    """Watch and repair instances as an administrator ("cli" in the event log)."""


@instances_group.command("list")
@click.option("--process", "process_id", type=TEXT, help="Only this process.")
@click.option("--version", type=ROW_ID, help="Only this version of it.")
@click.option("--status", type=click.Choice(["running", "completed", "error", "suspended", "terminated"]))
@click.option("--waiting-at", type=TEXT, help="Only those waiting at this step (element id).")
@click.option(
    "--older-than", "older_than_days", type=click.IntRange(1, 36500), help="Started over N days ago."
)
@click.option("--initiator", type=TEXT, help="Only those this user started.")
@with_appcontext
def list_command(**filters):
    """Every instance, oldest first, one line each (an incident with its failed step)."""
    listed = 0
    for info in engine.every_admin_instance(db.session, CLI_ADMIN, clock=clock(), **filters):
        waiting = ",".join(info.waiting_at) or "-"
        failed = f" error at {info.error['element']}: {info.error['message']}" if info.error else ""
        click.echo(
            f"{info.id}\t{info.process_id} v{info.version}\t{info.status}\t{waiting}\t{info.initiator}{failed}"
        )
        listed += 1
    click.echo(f"{listed} instance(s)")


def _repair(call, *args, **kwargs):
    try:
        info = call(db.session, *args, clock=clock(), **kwargs)
    except engine.EngineError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    waiting = ", ".join(info.waiting_at) or "nothing"
    click.echo(f"instance {info.id}: {info.status}, waiting at {waiting}")


REASON = click.option("--reason", type=TEXT, required=True, help="Why (kept in the event log).")
OPTIONAL_REASON = click.option("--reason", type=TEXT, default="", help="Why (kept in the event log).")


@instances_group.command("suspend")
@click.argument("instance_id", type=ROW_ID)
@REASON
@with_appcontext
def suspend_command(instance_id, reason):
    """Suspend INSTANCE: nothing moves until it is resumed."""
    _repair(engine.suspend_instance, instance_id, CLI_ADMIN, reason)


@instances_group.command("resume")
@click.argument("instance_id", type=ROW_ID)
@OPTIONAL_REASON
@with_appcontext
def resume_command(instance_id, reason):
    """Resume a suspended INSTANCE."""
    _repair(engine.resume_instance, instance_id, CLI_ADMIN, reason)


@instances_group.command("terminate")
@click.argument("instance_id", type=ROW_ID)
@REASON
@with_appcontext
def terminate_command(instance_id, reason):
    """End INSTANCE for good."""
    _repair(engine.terminate_instance, instance_id, CLI_ADMIN, reason)


@instances_group.command("retry")
@click.argument("instance_id", type=ROW_ID)
@OPTIONAL_REASON
@with_appcontext
def retry_command(instance_id, reason):
    """Run the failed step of an INSTANCE in error again (after a fix)."""
    _repair(engine.retry_instance, instance_id, CLI_ADMIN, reason=reason)


@instances_group.command("skip")
@click.argument("instance_id", type=ROW_ID)
@click.argument("task_id", type=TEXT)
@REASON
@click.option("--data", "data", default=None, help="The step's result, a JSON object.")
@with_appcontext
def skip_command(instance_id, task_id, reason, data):
    """Complete the ready TASK_ID of INSTANCE without its form."""
    _repair(engine.skip_task, instance_id, task_id, CLI_ADMIN, reason, _json_object("--data", data))


@instances_group.command("edit-data")
@click.argument("instance_id", type=ROW_ID)
@click.option(
    "--set", "changes", required=True, help='The variables to change, a JSON object: {"name": value}.'
)
@REASON
@with_appcontext
def edit_data_command(instance_id, changes, reason):
    """Set process variables of INSTANCE (old and new values are logged)."""
    _repair(engine.edit_instance_data, instance_id, CLI_ADMIN, _json_object("--set", changes), reason)


@instances_group.command("rewind")
@click.argument("instance_id", type=ROW_ID)
@click.argument("task_id", type=TEXT)
@REASON
@with_appcontext
def rewind_command(instance_id, task_id, reason):
    """Make the completed TASK_ID (from the event log) of INSTANCE ready again."""
    _repair(engine.rewind_instance, instance_id, task_id, CLI_ADMIN, reason)


@instances_group.command("undo")
@click.argument("instance_id", type=ROW_ID)
@OPTIONAL_REASON
@with_appcontext
def undo_command(instance_id, reason):
    """Put back INSTANCE's state from before its last replay or migration."""
    _repair(engine.undo, instance_id, CLI_ADMIN, reason=reason)


def _json_object(option, text):
    """The option's JSON object, read and checked as an API body is (`jsontext.problem`: no lone
    "\\ud800", NUL, NaN, numbers beyond 64 bits, or deep nesting)."""
    if text is None:
        return None
    try:
        value = jsontext.loads_exact(text)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint=option) from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    found = jsontext.problem(value)
    if found is not None:
        raise click.BadParameter(found.replace("the body", "the value"), param_hint=option)
    return value


def register(app):
    for command in (replay_command, verify_command, migrate_command, instances_group):
        app.cli.add_command(command)
