"""``params/notify.yaml``: how ``cxlab notify`` reaches owners. Secrets come from the
environment only: the file names the variables that hold them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cxlab.config import Strict
from cxlab.config._models import _env_name

__all__ = ["EmailSettings", "NotifySettings"]


class EmailSettings(Strict):
    """The SMTP server that sends the e-mails."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str | None = None     # environment variable holding the login name
    password_env: str | None = None     # environment variable holding the password
    sender: str                         # From: header, e.g. 客户体验部 <cx@example.com>
    attach_pdf: bool = True             # attach the PDFs (else only links, with base_url)
    max_attachment_mb: float = Field(default=10, gt=0)
    timeout_seconds: float = Field(default=20, gt=0)
    ca_file: str | None = None          # CA bundle for a server with a private certificate

    @model_validator(mode="after")
    def _check(self) -> EmailSettings:
        for key in ("username_env", "password_env"):
            if getattr(self, key) is not None:
                _env_name(getattr(self, key), key)
        return self


class NotifySettings(Strict):
    version: Literal[1]
    #: where the output of ``cxlab publish --out`` is served (links: <base_url>/<unit>/<period>/…)
    base_url: str | None = None
    email: EmailSettings | None = None
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    #: at most this many cases listed in one message (the rest: "等 N 项")
    max_items_listed: int = Field(default=20, ge=1)
