"""`cxlab notify` against real servers on the loopback interface: an SMTP server (aiosmtpd) that
requires STARTTLS and AUTH with a certificate made here, and an HTTP server standing in for the
WeCom, DingTalk and Feishu robot endpoints, which checks the DingTalk and Feishu signatures the
way those services document them before it accepts a message.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import hashlib
import hmac
import io
import json
import socket
import threading
import urllib.parse
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from cxlab.config import Org, params_from_dict
from cxlab.notify import NotifySettings, list_cases, notify

PERIOD = "2026Q3"
NOW = pd.Timestamp("2026-10-08 09:00:00")
SMTP_USER, SMTP_PASSWORD = "cx-robot", "smtp-pass-7f3a"
DT_SECRET, FS_SECRET = "SECdingtalk-test-secret", "feishu-test-secret"
PDF_PASSWORD = "company-pdf-pass"

ORG = {
    "version": 1,
    "company": {"code": "ALL", "name": "测试集团", "pdf_password_env": "T_PDF_ALL",
                "owners": [{"name": "总监", "email": "boss@example.com"}]},
    "units": [
        {"code": "R1", "name": "一区", "owners": [
            {"name": "一区总", "email": "r1@example.com",
             "dingtalk": {"url_env": "T_DT_URL", "secret_env": "T_DT_SECRET"}}],
         "units": [
             {"code": "B1", "name": "甲分部", "owners": [
                 {"name": "甲头", "email": "b1@example.com", "wecom": {"url_env": "T_WC_URL"}}]},
             {"code": "B2", "name": "乙分部", "owners": [{"name": "乙头", "email": "b2@example.com"}]},
         ]},
        {"code": "R2", "name": "二区", "owners": [
            {"name": "二区总", "feishu": {"url_env": "T_FS_URL", "secret_env": "T_FS_SECRET"}}],
         "units": [{"code": "B3", "name": "丙分部", "owner": "丙专员"}]},   # no channel
    ],
}


def _alert(rule: str, branch: str, ref: str) -> dict:
    return {"rule": rule, "label": {"detractor_complaint": "贬损者投诉"}.get(rule, "NPS 未达标"),
            "branch": branch, "period": PERIOD, "metric": "ltr", "value": 3.0, "threshold": 6.0,
            "severity": "high", "detail": f"测试预警 {ref}", "previous": None, "pvalue": None,
            "customer_id": None, "response_id": ref, "ticket_id": None}


ALERTS = pd.DataFrame([_alert("detractor_complaint", "B1", "r-b1"),
                       _alert("detractor_complaint", "B2", "r-b2"),
                       _alert("detractor_complaint", "B3", "r-b3")])


# ----------------------------------------------------------------------------- servers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography), as server chain and client CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cxlab test smtp")])
    now = dt.datetime.now(dt.UTC)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.SubjectAlternativeName(
             [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .sign(key, hashes.SHA256()))
    d = tmp_path_factory.mktemp("cert")
    (d / "cert.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return d / "cert.pem", d / "key.pem"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and AUTH; keeps every message received."""

    def __init__(self, cert: tuple[Path, Path], port: int):
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[str] = []
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*cert)
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=policy.default)
                outer.messages.append((list(envelope.rcpt_tos), msg))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (SMTP_USER,
                                                                            SMTP_PASSWORD)
            if ok:
                outer.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port,
                                     tls_context=ctx, require_starttls=True,
                                     authenticator=authenticator, auth_required=True)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class RobotServer:
    """WeCom, DingTalk and Feishu stand-ins; DingTalk and Feishu requests must carry a valid
    signature (recomputed here from the secret) or they are refused as the services do."""

    def __init__(self):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = url.path.strip("/")
                ok, why = True, ""
                if kind == "dingtalk":
                    ts = query["timestamp"][0]
                    # DingTalk: base64(HMAC-SHA256(secret, "timestamp\nsecret")), url-encoded
                    want = base64.b64encode(hmac.new(DT_SECRET.encode(),
                                                     f"{ts}\n{DT_SECRET}".encode(),
                                                     hashlib.sha256).digest()).decode()
                    ok = query["sign"][0] == want and query["access_token"] == ["dt-token"]
                    ok &= abs(int(ts) / 1000 - NOW_REAL()) < 3600
                    why = "sign not match"
                elif kind == "feishu":
                    ts = body.get("timestamp", "0")
                    # Feishu: base64(HMAC-SHA256(key="timestamp\nsecret", msg=""))
                    want = base64.b64encode(hmac.new(f"{ts}\n{FS_SECRET}".encode(), b"",
                                                     hashlib.sha256).digest()).decode()
                    ok = body.get("sign") == want and abs(int(ts) - NOW_REAL()) < 3600
                    why = "sign match fail or timestamp is not within one hour from current time"
                elif kind == "wecom":
                    ok = query.get("key") == ["wc-key"] and body.get("msgtype") == "markdown"
                    why = "invalid webhook url"
                outer.requests.append({"kind": kind, "query": query, "body": body, "ok": ok})
                answer = ({"code": 0 if ok else 19021, "msg": "success" if ok else why}
                          if kind == "feishu" else
                          {"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else why})
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def NOW_REAL() -> float:  # noqa: N802 - the servers judge timestamps by the real clock
    import time

    return time.time()


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture
def org() -> Org:
    return params_from_dict(ORG, Org, source="test org")


@pytest.fixture
def project(tmp_path) -> dict:
    """A warehouse folder (for the ledger) and a rendered tree with real PDFs."""
    from pypdf import PdfWriter

    wh = tmp_path / "warehouse"
    wh.mkdir()
    reports = tmp_path / "reports" / PERIOD
    reports.mkdir(parents=True)
    for code in ("ALL", "R1", "B1", "B2", "B3"):
        w = PdfWriter()
        w.add_blank_page(width=200, height=200)
        w.add_metadata({"/Title": f"report {code}"})
        with (reports / f"{code}.pdf").open("wb") as fh:
            w.write(fh)
    (reports / "R2.html").write_text("<html>二区</html>", encoding="utf-8")
    return {"warehouse": wh, "reports": tmp_path / "reports"}


def _settings(port: int, cafile: Path, *, base_url: str | None = None) -> NotifySettings:
    return params_from_dict({
        "version": 1, "base_url": base_url,
        "email": {"host": "127.0.0.1", "port": port, "security": "starttls",
                  "username_env": "T_SMTP_USER", "password_env": "T_SMTP_PASSWORD",
                  "sender": "客户体验部 <cx@example.com>", "ca_file": str(cafile),
                  "timeout_seconds": 10},
        "webhook_timeout_seconds": 5}, NotifySettings)


def _env(robots: RobotServer) -> dict[str, str]:
    return {"T_SMTP_USER": SMTP_USER, "T_SMTP_PASSWORD": SMTP_PASSWORD,
            "T_PDF_ALL": PDF_PASSWORD,
            "T_WC_URL": f"{robots.base}/wecom?key=wc-key",
            "T_DT_URL": f"{robots.base}/dingtalk?access_token=dt-token",
            "T_DT_SECRET": DT_SECRET,
            "T_FS_URL": f"{robots.base}/feishu", "T_FS_SECRET": FS_SECRET}


def _run(org, project, settings, env, *, alerts=ALERTS, now=NOW, dry_run=False):
    return notify(PERIOD, warehouse=project["warehouse"], reports_dir=project["reports"],
                  org=org, settings=settings, env=env, alerts=alerts, now=now, dry_run=dry_run)


def _by_rcpt(smtp: SmtpServer) -> dict[str, email.message.EmailMessage]:
    out = {}
    for rcpts, msg in smtp.messages:
        assert len(rcpts) == 1
        out[rcpts[0]] = msg
    return out


def _attachments(msg) -> dict[str, bytes]:
    return {p.get_filename(): p.get_content() for p in msg.iter_attachments()}


# ----------------------------------------------------------------------------- tests
def test_each_owner_gets_their_scope_by_mail_and_robot(org, project, cert, tmp_path):
    port = _free_port()
    with SmtpServer(cert, port) as smtp, RobotServer() as robots:
        s = _run(org, project, _settings(port, cert[0], base_url="https://cx.example.com/s"),
                 _env(robots))
        assert s.failed == [] and s.new_cases == 3
        mails = _by_rcpt(smtp)
        assert sorted(mails) == ["b1@example.com", "b2@example.com", "boss@example.com",
                                 "r1@example.com"]
        assert smtp.logins == [SMTP_USER] * 4           # AUTH after STARTTLS, every message
        b1, r1, boss = mails["b1@example.com"], mails["r1@example.com"], mails["boss@example.com"]
        assert b1["Subject"] == f"【客户体验】甲分部 {PERIOD}:1份新报告、1项待处理预警"
        assert "甲头" in b1["To"] and "cx@example.com" in b1["From"]
        assert sorted(_attachments(b1)) == [f"{PERIOD}-B1.pdf"]
        assert _attachments(b1)[f"{PERIOD}-B1.pdf"] == \
            (project["reports"] / PERIOD / "B1.pdf").read_bytes()
        body = b1.get_body(("plain",)).get_content()
        assert "测试预警 r-b1" in body and "r-b2" not in body and "乙分部" not in body
        assert "https://cx.example.com/s/B1/2026Q3/B1.html" in body
        # the region reads its own report and its branches', not the other region's
        assert sorted(_attachments(r1)) == [f"{PERIOD}-{c}.pdf" for c in ("B1", "B2", "R1")]
        rbody = r1.get_body(("plain",)).get_content()
        assert "r-b1" in rbody and "r-b2" in rbody and "r-b3" not in rbody and "丙" not in rbody
        # the company's PDFs are encrypted with its password (as `cxlab publish` does)
        from pypdf import PdfReader

        att = _attachments(boss)
        assert sorted(att) == [f"{PERIOD}-{c}.pdf" for c in ("ALL", "B1", "B2", "B3", "R1")]
        reader = PdfReader(io.BytesIO(att[f"{PERIOD}-B3.pdf"]))
        assert reader.is_encrypted and reader.decrypt(PDF_PASSWORD)
        assert "r-b3" in boss.get_body(("plain",)).get_content()
        # robots: WeCom markdown for B1, DingTalk signed for R1, Feishu signed for R2
        kinds = sorted(r["kind"] for r in robots.requests)
        assert kinds == ["dingtalk", "feishu", "wecom"]
        assert all(r["ok"] for r in robots.requests), robots.requests
        wc = next(r for r in robots.requests if r["kind"] == "wecom")["body"]
        assert wc["msgtype"] == "markdown" and "[甲分部](https://cx.example.com/s/B1/2026Q3/B1.html)" \
            in wc["markdown"]["content"]
        fs = next(r for r in robots.requests if r["kind"] == "feishu")["body"]
        assert fs["msg_type"] == "text" and "r-b3" in fs["content"]["text"]
        assert "丙分部" in fs["content"]["text"] and "甲分部" not in fs["content"]["text"]
        # the owner without a channel is reported, not skipped silently
        assert s.unreachable == ["B3:丙专员"]


def test_rerun_sends_nothing_already_sent_and_only_what_is_new(org, project, cert):
    port = _free_port()
    with SmtpServer(cert, port) as smtp, RobotServer() as robots:
        settings, env = _settings(port, cert[0]), _env(robots)
        first = _run(org, project, settings, env)
        n_mail, n_http = len(smtp.messages), len(robots.requests)
        assert len(first.sent) == n_mail + n_http == 7
        again = _run(org, project, settings, env, now=NOW + pd.Timedelta(hours=1))
        assert again.sent == [] and again.failed == [] and again.new_cases == 0
        assert (len(smtp.messages), len(robots.requests)) == (n_mail, n_http)
        # a new alert in B2: only B2's owner, its region and the company hear of it
        more = pd.concat([ALERTS, pd.DataFrame([_alert("nps_below_target", "B2", "")])])
        third = _run(org, project, settings, env, alerts=more, now=NOW + pd.Timedelta(hours=2))
        assert third.new_cases == 1
        new = smtp.messages[n_mail:]
        assert sorted(r[0] for r, _ in new) == ["b2@example.com", "boss@example.com",
                                                "r1@example.com"]
        for _, msg in new:
            assert msg["Subject"].endswith(":1项待处理预警")    # no report sent twice
            assert _attachments(msg) == {}
        assert [r["kind"] for r in robots.requests[n_http:]] == ["dingtalk"]


def test_failed_delivery_is_retried_and_does_not_stop_the_others(org, project, cert):
    port = _free_port()              # nothing listens there yet: the connection is refused
    with RobotServer() as robots:
        settings, env = _settings(port, cert[0]), _env(robots)
        first = _run(org, project, settings, env)
        assert {d.channel for d in first.failed} == {"email"} and len(first.failed) == 4
        assert all("Connection refused" in d.error or "Errno" in d.error for d in first.failed)
        assert sorted(d.channel for d in first.sent) == ["dingtalk", "feishu", "wecom"]
        assert "FAILED email -> B1:甲头" in first.summary()
        with SmtpServer(cert, port) as smtp:
            second = _run(org, project, settings, env, now=NOW + pd.Timedelta(hours=1))
            assert second.failed == []
            assert sorted(d.channel for d in second.sent) == ["email"] * 4
            assert all(d.retry == len(d.items) for d in second.sent)
            assert len(smtp.messages) == 4 and len(robots.requests) == 3   # robots not resent
            assert "retry of" in second.summary()
    from cxlab.notify import connect_ledger

    with connect_ledger(project["warehouse"]) as con:
        rows = con.execute("SELECT recipient, channel, result FROM deliveries WHERE "
                           "item = 'report:2026Q3/B1' ORDER BY sent_at, recipient").fetchall()
    assert ("B1:甲头", "email", "failed") in rows and ("B1:甲头", "email", "ok") in rows


def test_bad_robot_signature_is_refused_and_reported(org, project, cert):
    port = _free_port()
    with SmtpServer(cert, port), RobotServer() as robots:
        env = _env(robots) | {"T_FS_SECRET": "wrong-secret", "T_DT_SECRET": "wrong"}
        s = _run(org, project, _settings(port, cert[0]), env)
        assert sorted(d.channel for d in s.failed) == ["dingtalk", "feishu"]
        assert any("sign not match" in d.error for d in s.failed)
        assert any("19021" in d.error for d in s.failed)
        assert not any(r["ok"] for r in robots.requests if r["kind"] != "wecom")


def test_overdue_case_escalates_to_the_superior(org, project, cert):
    port = _free_port()
    with SmtpServer(cert, port) as smtp, RobotServer() as robots:
        settings, env = _settings(port, cert[0]), _env(robots)
        _run(org, project, settings, env)
        from cxlab.notify import close_case

        close_case(project["warehouse"], list_cases(project["warehouse"], units=["B2"])
                   .iloc[0]["case_id"], cause="配送延误", action="更换承运商")
        n = len(smtp.messages)
        late = NOW + pd.Timedelta(hours=80)      # closure_hours 72 in params/alerts.yaml
        s = _run(org, project, settings, env, now=late)
        new = {r[0]: m for r, m in smtp.messages[n:]}
        # B1's case is overdue -> R1; B3's -> R2 (robot only); B2's was closed in time
        assert sorted(new) == ["r1@example.com"]
        body = new["r1@example.com"].get_body(("plain",)).get_content()
        assert "超期未关闭、需要您督办的工单共 1 项" in body and "r-b1" in body
        assert "甲头" in body and "已超期 8 小时" in body
        assert any(d.channel == "feishu" and d.recipient == "R2:二区总" for d in s.sent)
        cases = list_cases(project["warehouse"]).set_index("unit")
        assert cases.loc["B1", "escalated_to"] == "R1" and cases.loc["B3", "escalated_to"] == "R2"
        assert pd.isna(cases.loc["B2", "escalated_to"]) and cases.loc["B2", "status"] == "已关闭"
        # escalation is sent once
        m = len(smtp.messages)
        _run(org, project, settings, env, now=late + pd.Timedelta(hours=1))
        assert len(smtp.messages) == m


def test_dry_run_sends_and_records_nothing(org, project, cert):
    port = _free_port()
    with SmtpServer(cert, port) as smtp, RobotServer() as robots:
        s = _run(org, project, _settings(port, cert[0]), _env(robots), dry_run=True)
        assert s.dry_run and len(s.sent) == 7 and s.failed == []
        assert smtp.messages == [] and robots.requests == []
        text = s.summary()
        assert "WOULD SEND email -> B1:甲头" in text and "测试预警 r-b1" in text
        assert not (project["warehouse"] / "ledger.duckdb").exists()


def test_missing_secret_fails_that_recipient_only(org, project, cert):
    port = _free_port()
    with SmtpServer(cert, port) as smtp, RobotServer() as robots:
        env = _env(robots)
        del env["T_WC_URL"], env["T_PDF_ALL"]
        s = _run(org, project, _settings(port, cert[0]), env)
        errors = {d.recipient + "/" + d.channel: d.error for d in s.failed}
        assert errors == {"B1:甲头/wecom": "wecom: T_WC_URL is not set in the environment",
                          "ALL:总监/email": "pdf_password_env T_PDF_ALL is not set in the "
                                            "environment"}
        assert len(smtp.messages) == 3      # the other owners got theirs


def test_long_robot_message_is_cut_to_the_robot_limit(org, project, cert):
    many = pd.DataFrame([_alert("detractor_complaint", "B1", f"r-b1-{i:03d}") for i in range(300)])
    port = _free_port()
    with SmtpServer(cert, port) as smtp, RobotServer() as robots:
        settings = _settings(port, cert[0]).model_copy(update={"max_items_listed": 250})
        s = _run(org, project, settings, _env(robots), alerts=many)
        assert s.failed == []
        wc = next(r for r in robots.requests if r["kind"] == "wecom")["body"]["markdown"]
        assert len(wc["content"].encode("utf-8")) <= 4096          # WeCom markdown limit
        assert "内容过长已截断" in wc["content"]
        b1 = _by_rcpt(smtp)["b1@example.com"].get_body(("plain",)).get_content()
        assert b1.count("测试预警 r-b1-") == 250 and "等共 300 项" in b1
