"""Sending one message: e-mail over SMTP (STARTTLS or TLS, login) and group-robot webhooks
(WeCom 企业微信, DingTalk 钉钉 with its signed request, Feishu 飞书 with its signature).

Signatures, as the vendors document them:

- DingTalk (钉钉自定义机器人 加签): ``timestamp`` in milliseconds; ``sign`` =
  url-encode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))), both added to the
  webhook's query string.
- Feishu (飞书自定义机器人 签名校验): ``timestamp`` in seconds; ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")), both in the JSON body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr

__all__ = ["Attachment", "dingtalk_sign", "feishu_sign", "robot_payload", "send_email",
           "send_robot"]


class DeliveryError(Exception):
    """A message could not be delivered (recorded in the ledger and retried next run)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    mime: str = "application/pdf"


@dataclass(frozen=True, slots=True, kw_only=True)
class Email:
    to: str
    to_name: str
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` query parameter (already url-encoded)."""
    msg = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign`` body field."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def robot_payload(kind: str, title: str, markdown: str, *, secret: str | None = None,
                  now: float | None = None) -> tuple[dict, dict]:
    """The JSON body and extra query parameters of one robot message."""
    now = time.time() if now is None else now
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": markdown}}, {}
    if kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
        if secret:
            ts = int(now * 1000)
            return body, {"timestamp": str(ts), "sign": dingtalk_sign(secret, ts)}
        return body, {}
    if kind == "feishu":
        body = {"msg_type": "text", "content": {"text": f"{title}\n\n{markdown}"}}  # plain text
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return body, {}
    raise ValueError(f"robot kind {kind!r}: expected wecom, dingtalk or feishu")


def send_robot(kind: str, url: str, title: str, markdown: str, *, secret: str | None = None,
               timeout: float = 10.0) -> None:
    """POST one message to a group robot; raises :class:`DeliveryError` unless it is accepted
    (HTTP 200 and ``errcode``/``code`` 0 in the answer)."""
    body, query = robot_payload(kind, title, markdown, secret=secret)
    if query:   # the sign is url-encoded already: append as is
        url += ("&" if urllib.parse.urlsplit(url).query else "?") + "&".join(
            f"{k}={v}" for k, v in query.items())
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 headers={"Content-Type": "application/json; charset=utf-8"},
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except OSError as err:   # URLError, HTTPError, timeouts, refused connections
        raise DeliveryError(f"{kind}: {getattr(err, 'reason', err)}") from None
    except ValueError as err:   # a malformed URL in the environment variable
        raise DeliveryError(f"{kind}: webhook URL: {err}") from None
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise DeliveryError(f"{kind}: answer is not JSON: {raw[:80]!r}") from None
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, "0", None):
        msg = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise DeliveryError(f"{kind}: refused ({code}) {msg}".rstrip())


def send_email(mail: Email, *, host: str, port: int, security: str, sender: str,
               username: str | None, password: str | None, timeout: float = 20.0,
               cafile: str | None = None) -> None:
    """Send one e-mail; ``security`` is ``starttls`` (port 587), ``ssl`` (465) or ``none``
    (a relay on the local network). Raises :class:`DeliveryError` on any failure."""
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg["From"] = sender
    msg["To"] = formataddr((mail.to_name, mail.to))
    msg.set_content(mail.text)
    for a in mail.attachments:
        main, sub = a.mime.split("/", 1)
        msg.add_attachment(a.data, maintype=main, subtype=sub, filename=a.filename)
    try:
        context = ssl.create_default_context(cafile=cafile)
    except OSError as err:
        raise DeliveryError(f"email: ca_file {cafile}: {err.strerror or err}") from None
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if username:
                smtp.login(username, password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"email: {type(err).__name__}: {err}") from None
