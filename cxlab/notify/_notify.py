"""``cxlab notify``: each owner gets the new reports and the open cases of their scope, and the
overdue cases of the units directly below them (escalation), by e-mail and group robots.

Idempotent through the delivery ledger (``deliveries`` in ``<warehouse>/ledger.duckdb``): one
row per recipient × item × channel × attempt with its result. An item already delivered to a
recipient on a channel is never sent again there; a failed one is sent again on the next run.
A failure for one recipient never stops the others.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError
from cxlab.notify._cases import CLOSED, connect_ledger, ledger_path, list_cases, sync_cases
from cxlab.notify._send import Attachment, DeliveryError, Email, send_email, send_robot

__all__ = ["NotifySummary", "notify"]

ROBOTS = ("wecom", "dingtalk", "feishu")
_CHANNEL_NAME = {"email": "邮件", "wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
_SEVERITY = {"high": "高", "medium": "中", "low": "低"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One message to one recipient on one channel."""

    recipient: str          # "<unit code>:<owner name>"
    unit: str
    channel: str
    items: list[str]
    subject: str
    text: str
    attachments: list[str] = field(default_factory=list)
    retry: int = 0          # items that failed on an earlier run
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifySummary:
    """What a run sent (or would send, with ``dry_run``), what failed and why."""

    period: str
    new_cases: int
    sent: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)   # owners without any channel
    dry_run: bool = False

    def summary(self) -> str:
        verb = "Would send" if self.dry_run else "Sent"
        lines = [f"{self.period}: {self.new_cases} new case(s); {verb} {len(self.sent)} "
                 f"message(s), failed {len(self.failed)}."]
        for d in self.sent:
            extra = f", retry of {d.retry}" if d.retry else ""
            att = f", attached {', '.join(d.attachments)}" if d.attachments else ""
            lines.append(f"  {'WOULD SEND' if self.dry_run else 'sent'} {d.channel} -> "
                         f"{d.recipient}: {len(d.items)} item(s){extra}{att}: {d.subject}")
            if self.dry_run:
                lines += ["      " + t for t in d.text.splitlines()]
        for d in self.failed:
            lines.append(f"  FAILED {d.channel} -> {d.recipient} ({len(d.items)} item(s), "
                         f"retried next run): {d.error}")
        for who in self.unreachable:
            lines.append(f"  no channel (email or robot) for {who}: nothing sent")
        return "\n".join(lines)


def _fmt_time(ts) -> str:
    return "—" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M")


def _case_line(c, org, *, now, escalation: bool = False) -> str:
    name = _unit_name(org, c["unit"])
    line = (f"[{c['case_id']}] {name} {c['label']}(严重度 {_SEVERITY.get(c['severity'], '—')})"
            f":{c['detail']}。")
    if escalation:
        late = (pd.Timestamp(now) - pd.Timestamp(c["due_at"])).total_seconds() / 3600
        return (line + f"负责人 {c['owner'] or '未指定'},应于 {_fmt_time(c['due_at'])} 前关闭,"
                f"已超期 {late:.0f} 小时,状态 {c['status']}")
    return line + f"请于 {_fmt_time(c['due_at'])} 前关闭,当前状态 {c['status']}"


def _unit_name(org, code: str) -> str:
    try:
        return org.name_of(code)
    except KeyError:
        return code


def _compose(org, audience: str, owner_name: str, period: str, *, reports: list[tuple],
             cases: pd.DataFrame, escalations: pd.DataFrame, links: dict[str, str],
             attached: bool, now, max_items: int, markdown: bool) -> tuple[str, str]:
    """Subject and body (plain text for e-mail, markdown for robots), in Chinese."""
    scope_name = org.name_of(audience)
    # no spaces inside the counts: mail clients drop the space between two folded encoded
    # words of a long non-ASCII subject (RFC 2047 §6.2), "1 份" would arrive as "1份" anyway
    parts = []
    if reports:
        parts.append(f"{len(reports)}份新报告")
    if len(cases):
        parts.append(f"{len(cases)}项待处理预警")
    if len(escalations):
        parts.append(f"{len(escalations)}项超期工单需督办")
    subject = f"【客户体验】{scope_name} {period}:{'、'.join(parts)}"
    bullet = "- " if markdown else "  · "
    lines = [f"### {subject}" if markdown else f"{owner_name},您好:", ""]
    if reports:
        how = "(PDF 见附件)" if attached else ""
        lines.append(f"{period} 期客户体验报告已生成,您可查阅以下报告{how}:")
        for item, code, _path in reports:
            label = _unit_name(org, code) + ("(全公司)" if code == org.company.code else "")
            link = links.get(item)
            if link and markdown:
                lines.append(f"{bullet}[{label}]({link})")
            else:
                lines.append(f"{bullet}{label}" + (f":{link}" if link else ""))
        lines.append("")
    for title, frame, esc in (("待处理预警(工单)", cases, False),
                              ("超期未关闭、需要您督办的工单", escalations, True)):
        if not len(frame):
            continue
        lines.append(f"{title}共 {len(frame)} 项:")
        for c in frame.head(max_items).to_dict("records"):
            lines.append(bullet + _case_line(c, org, now=now, escalation=esc))
        if len(frame) > max_items:
            lines.append(f"{bullet}…… 等共 {len(frame)} 项,完整清单见 cxlab cases list")
        lines.append("")
    if len(cases) or len(escalations):
        lines.append("处理完毕请登记原因与措施(cxlab cases close 编号 --cause 原因 --action 措施,"
                     "或由工单系统导出后 cxlab cases import)。")
    lines.append("—— 客户体验部(cxlab 自动发送)")
    return subject, "\n".join(lines)


#: robots cap a message (WeCom markdown: 4096 bytes): longer lists are cut with a pointer
ROBOT_BYTES = 3800


def _fit(text: str, limit: int = ROBOT_BYTES) -> str:
    if len(text.encode("utf-8")) <= limit:
        return text
    tail = "\n- ……(内容过长已截断,完整清单见邮件或 cxlab cases list)\n—— 客户体验部(cxlab 自动发送)"
    keep, size = [], len(tail.encode("utf-8"))
    for line in text.splitlines():
        size += len(line.encode("utf-8")) + 1
        if size > limit:
            break
        keep.append(line)
    return "\n".join(keep) + tail


def _delivered(con, recipient: str, channel: str) -> tuple[set[str], set[str]]:
    rows = con.execute("SELECT item, result FROM deliveries WHERE recipient = ? AND channel = ?",
                       [recipient, channel]).fetchall()
    ok = {i for i, r in rows if r == "ok"}
    failed = {i for i, r in rows if r != "ok"} - ok
    return ok, failed


def _record(con, d: Delivery, *, period: str, now, result: str, error: str | None) -> None:
    con.executemany("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [[d.recipient, d.unit, item, d.channel, period, now, result, error]
                     for item in d.items])


def notify(period: str, *, warehouse: str | Path = "data/warehouse",
           reports_dir: str | Path = "reports", params_dir: str | Path = "params",
           org=None, settings=None, dry_run: bool = False, now: pd.Timestamp | None = None,
           env: dict[str, str] | None = None, alerts: pd.DataFrame | None = None,
           progress: Callable[[str], None] | None = None) -> NotifySummary:
    """Open cases for the period's alerts, then deliver to every owner what is new for them.

    Parameters
    ----------
    period : str
        The reporting period whose reports are announced (``reports_dir/<period>/``) and whose
        alerts become cases. Open cases of earlier periods are still listed until closed.
    warehouse : path
        Holds the case and delivery ledger (``ledger.duckdb``).
    settings : NotifySettings, optional
        Default: ``params_dir/notify.yaml``.
    dry_run : bool
        Work on a temporary copy of the ledger and send nothing: the summary lists every message
        that would go out, with its text.
    now : timestamp, optional
        The time of the run (opening and overdue times). Default: now.
    env : mapping, optional
        Where secrets are read (default ``os.environ``).
    alerts : DataFrame, optional
        The period's alerts (default: evaluated over the warehouse, :func:`fired_alerts`).

    Returns
    -------
    NotifySummary
    """
    from cxlab.config import load_org, load_params
    from cxlab.notify._params import NotifySettings

    params_dir = Path(params_dir)
    org = org if org is not None else load_org(params_dir / "org.yaml")
    settings = settings if settings is not None else load_params(params_dir / "notify.yaml",
                                                                 NotifySettings)
    env = os.environ if env is None else env
    now = pd.Timestamp.now().floor("s") if now is None else pd.Timestamp(now)
    warehouse = Path(warehouse)
    if not warehouse.is_dir():
        raise CxlabError(f"{warehouse}: warehouse not found (run `cxlab ingest` first)")
    tmp = None
    ledger = ledger_path(warehouse)
    if dry_run:
        tmp = Path(tempfile.mkdtemp(prefix="cxlab-notify-"))
        if ledger.exists():
            shutil.copy2(ledger, tmp / ledger.name)
        ledger = tmp / ledger.name
    try:
        new_cases = sync_cases(warehouse, period=period, org=org, params_dir=params_dir,
                               now=now, alerts=alerts, ledger=ledger)
        return _deliver(org, settings, period=period, ledger=ledger,
                        reports_dir=Path(reports_dir), now=now, env=env, dry_run=dry_run,
                        new_cases=new_cases, progress=progress)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _reports_of(reports_dir: Path, period: str, scope: list[str]) -> list[tuple[str, str, Path]]:
    out = []
    for code in scope:
        for fmt in ("pdf", "html"):
            p = reports_dir / period / f"{code}.{fmt}"
            if p.is_file():
                out.append((f"report:{period}/{code}", code, p))
                break
    return out


def _pdf_for(audience, path: Path, env) -> bytes:
    """The PDF as the audience receives it: encrypted when the audience has a password."""
    data = path.read_bytes()
    var = audience.pdf_password_env
    if var is None:
        return data
    if not env.get(var):
        raise DeliveryError(f"pdf_password_env {var} is not set in the environment")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=env[var], owner_password=None, algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _deliver(org, settings, *, period, ledger, reports_dir, now, env, dry_run, new_cases,
             progress) -> NotifySummary:
    open_cases = list_cases(ledger)
    open_cases = open_cases[open_cases["status"] != CLOSED]
    overdue = open_cases[pd.to_datetime(open_cases["due_at"]) < now]
    def superior(unit: str) -> str | None:
        try:
            return org.superior_of(unit)
        except KeyError:    # a unit that left the organisation: its cases go to the company
            return org.company.code

    superiors = overdue["unit"].map(superior)
    sent, failed, unreachable = [], [], []
    company = org.company.code
    for audience in org.scope(company):
        scope = org.scope(audience)
        reports = _reports_of(reports_dir, period, scope)
        cases = open_cases[open_cases["unit"].isin(scope)]
        escal = overdue[superiors == audience]
        contacts = org.contacts(audience)
        if not contacts:
            continue
        links = {}
        if settings.base_url:
            base = settings.base_url.rstrip("/")
            links = {item: f"{base}/{audience}/{period}/{code}.html"
                     for item, code, _ in reports}
        for owner in contacts:
            recipient = f"{audience}:{owner.name}"
            if not owner.channels:
                unreachable.append(f"{recipient}")
                continue
            for channel in owner.channels:
                with connect_ledger(ledger) as con:
                    ok, failed_before = _delivered(con, recipient, channel)
                r_new = [r for r in reports if r[0] not in ok]
                c_new = cases[~("case:" + cases["case_id"].astype(str)).isin(ok)]
                e_new = escal[~("escalation:" + escal["case_id"].astype(str)).isin(ok)]
                items = ([r[0] for r in r_new] + [f"case:{i}" for i in c_new["case_id"]]
                         + [f"escalation:{i}" for i in e_new["case_id"]])
                if not items:
                    continue
                retry = len(set(items) & failed_before)
                try:
                    delivery = _send_one(org, settings, audience=audience, owner=owner,
                                         channel=channel, recipient=recipient, period=period,
                                         reports=r_new, cases=c_new, escalations=e_new,
                                         links=links, items=items, now=now, env=env,
                                         dry_run=dry_run, retry=retry)
                except Exception as err:  # noqa: BLE001 - one recipient never stops the others
                    delivery = Delivery(recipient=recipient, unit=audience, channel=channel,
                                        items=items, subject="", text="", retry=retry,
                                        error=f"{channel}: {type(err).__name__}: {err}")
                result = "failed" if delivery.error else "ok"
                with connect_ledger(ledger) as con:
                    _record(con, delivery, period=period, now=now.to_pydatetime(),
                            result=result, error=delivery.error)
                    if result == "ok" and len(e_new):
                        con.execute("""UPDATE cases SET escalated_to = ?, escalated_at = ?
                                       WHERE escalated_at IS NULL AND list_contains(?, case_id)""",
                                    [audience, now.to_pydatetime(), list(e_new["case_id"])])
                (failed if delivery.error else sent).append(delivery)
                if progress is not None:
                    progress(f"{'FAILED' if delivery.error else 'ok'} {channel} -> {recipient}")
    return NotifySummary(period=period, new_cases=new_cases, sent=sent, failed=failed,
                         unreachable=unreachable, dry_run=dry_run)


def _send_one(org, settings, *, audience, owner, channel, recipient, period, reports, cases,
              escalations, links, items, now, env, dry_run, retry) -> Delivery:
    is_mail = channel == "email"
    attach: list[Attachment] = []
    error = None
    try:
        if is_mail:
            if settings.email is None:
                raise DeliveryError("email: no `email:` settings in params/notify.yaml")
            if settings.email.attach_pdf:
                budget = settings.email.max_attachment_mb * 1024 * 1024
                for _item, code, path in reports:
                    if path.suffix == ".pdf" and path.stat().st_size <= budget:
                        data = _pdf_for(org.audience(audience), path, env)
                        budget -= len(data)
                        attach.append(Attachment(f"{period}-{code}.pdf", data))
    except DeliveryError as err:
        error = str(err)
    subject, text = _compose(org, audience, owner.name, period, reports=reports, cases=cases,
                             escalations=escalations, links=links, attached=bool(attach),
                             now=now, max_items=settings.max_items_listed,
                             markdown=channel in ("wecom", "dingtalk"))
    if not is_mail:
        text = _fit(text)
    d = dict(recipient=recipient, unit=audience, channel=channel, items=items, subject=subject,
             text=text, attachments=[a.filename for a in attach], retry=retry)
    if error:
        return Delivery(**d, error=error)
    try:
        # secrets are looked up in a dry run too: a missing one is reported before a real run
        if is_mail:
            e = settings.email
            user = env.get(e.username_env) if e.username_env else None
            if e.username_env and not user:
                raise DeliveryError(f"email: {e.username_env} is not set in the environment")
            pw = env.get(e.password_env) if e.password_env else None
            if e.password_env and not pw:
                raise DeliveryError(f"email: {e.password_env} is not set in the environment")
            if not dry_run:
                send_email(Email(to=owner.email, to_name=owner.name, subject=subject, text=text,
                                 attachments=attach),
                           host=e.host, port=e.port, security=e.security, sender=e.sender,
                           username=user, password=pw, timeout=e.timeout_seconds,
                           cafile=e.ca_file)
        else:
            robot = getattr(owner, channel)
            url = env.get(robot.url_env)
            if not url:
                raise DeliveryError(f"{channel}: {robot.url_env} is not set in the environment")
            secret = None
            if robot.secret_env:
                secret = env.get(robot.secret_env)
                if not secret:
                    raise DeliveryError(f"{channel}: {robot.secret_env} is not set in the "
                                        "environment")
            if not dry_run:
                send_robot(channel, url, subject, text, secret=secret,
                           timeout=settings.webhook_timeout_seconds)
    except DeliveryError as err:
        error = str(err)
    return Delivery(**d, error=error)
