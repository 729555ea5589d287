"""What every page's layout needs: the inbox badge, dates in the user's locale, and labels."""

from datetime import UTC, datetime, timedelta
from decimal import InvalidOperation

from babel import Locale, dates, numbers
from flask import request, url_for
from flask_babel import get_locale, get_timezone, lazy_gettext
from flask_login import current_user

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp

DUE_SOON = timedelta(days=2)

STATUS_LABELS = {
    "running": lazy_gettext("進行中"),
    "completed": lazy_gettext("已完成"),
    "error": lazy_gettext("出錯"),
    "suspended": lazy_gettext("已暫停"),
    "terminated": lazy_gettext("已終止"),
}

EVENT_LABELS = {
    "started": lazy_gettext("提交申請，流程開始"),
    "task_completed": lazy_gettext("完成步驟"),
    "task_claimed": lazy_gettext("認領任務"),
    "task_unclaimed": lazy_gettext("退回任務給部門"),
    "message_received": lazy_gettext("收到消息"),
    "timer_fired": lazy_gettext("定時觸發"),
    "ended": lazy_gettext("流程結束"),
    "error": lazy_gettext("流程出錯"),
    "suspended": lazy_gettext("暫停流程"),
    "resumed": lazy_gettext("恢復流程"),
    "terminated": lazy_gettext("終止流程"),
    "retried": lazy_gettext("重試出錯步驟"),
    "task_skipped": lazy_gettext("跳過步驟"),
    "data_edited": lazy_gettext("修改流程數據"),
    "rewound": lazy_gettext("回退到步驟"),
    "replayed": lazy_gettext("按事件記錄重放"),
    "migrated": lazy_gettext("遷移到新版本"),
    "undone": lazy_gettext("撤銷上次重放或遷移"),
}


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes; they are UTC as stored."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def due_state(due_at, now=None) -> str | None:
    """'overdue', 'soon' (within two days) or None."""
    due_at = aware(due_at)
    if due_at is None:
        return None
    now = now or clock()()
    if due_at < now:
        return "overdue"
    return "soon" if due_at - now <= DUE_SOON else None


def by_urgency(tasks):
    """Overdue first, then the nearest due date, then the longest waiting; undated last."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(tasks, key=lambda t: (aware(t.due_at) or far, aware(t.created_at) or far))


def claim_state(task, username) -> str | None:
    """'claimable' (an open group task), 'mine' (claimed by the user) or None.

    A task the diagram assigns to someone (revise_request goes to its initiator) has an
    assignee without a claim and cannot be given back.
    """
    claimed_by = getattr(task, "claimed_by", task.assignee)
    if task.assignee is None:
        return "claimable"
    return "mine" if claimed_by == username else None


@bp.app_template_filter("group_name")
def group_name(group_id) -> str:
    for group in engine.GROUPS:
        if group.id == group_id:
            return group.name_en if str(get_locale()).startswith("en") else group.name_zh
    return group_id or ""


@bp.app_template_filter("split_message")
def split_message(message: str) -> str:
    """The engine's messages read 'Chinese / English'; show the user's language."""
    parts = str(message).split(" / ")
    if len(parts) != 2:
        return str(message)
    return parts[1] if str(get_locale()).startswith("en") else parts[0]


def display_locale() -> Locale:
    """The locale for dates and numbers. Babel's plain 'zh' is Simplified Chinese; the
    regulation is written in Traditional Chinese, so dates are too."""
    locale = get_locale() or Locale("zh")
    return Locale.parse("zh_Hant_HK") if locale.language == "zh" else locale


@bp.app_template_filter("datetime")
def _datetime(value, style="medium"):
    if not value:
        return ""
    return dates.format_datetime(aware(value), style, tzinfo=get_timezone(), locale=display_locale())


@bp.app_template_filter("date")
def _date(value, style="medium"):
    if not value:
        return ""
    return dates.format_date(aware(value).astimezone(get_timezone()), style, locale=display_locale())


@bp.app_template_filter("ago")
def _ago(value):
    if not value:
        return ""
    delta = aware(value) - clock()()
    return dates.format_timedelta(delta, add_direction=True, locale=display_locale())


@bp.app_template_filter("money")
def _money(value):
    """An amount with grouping and two decimals in the reader's locale; '—' when there is none."""
    if value is None or value == "":
        return "—"
    try:
        return numbers.format_decimal(value, "#,##0.00", locale=display_locale())
    except (InvalidOperation, OverflowError, ValueError):  # 1e28: beyond Babel's decimal precision
        return str(value)


@bp.app_template_filter("iso")
def _iso(value):
    return aware(value).isoformat() if value else ""


def url_with(**changes) -> str:
    """This page's URL with some query arguments changed (pagination keeps the filters)."""
    args = {**request.args.to_dict(), **changes}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


@bp.app_context_processor
def _layout():
    def inbox_count():
        if not current_user.is_authenticated:
            return 0
        return engine.count_tasks(db.session, current_user.actor)

    return {
        "inbox_count": inbox_count,
        "current_locale": lambda: str(get_locale() or "zh"),
        "group_name": group_name,
        "due_state": due_state,
        "claim_state": claim_state,
        "status_labels": STATUS_LABELS,
        "event_labels": EVENT_LABELS,
        "split_message": split_message,
        "url_with": url_with,
    }
