"""A stand-in for api.weixin.qq.com: issues access tokens and records customer-service messages.

Behaves as documented: GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=… answers
{"access_token", "expires_in": 7200}; POST /cgi-bin/message/custom/send?access_token=… takes
{"touser", "msgtype": "text", "text": {"content"}}, answering errcode 40001 for an unknown token;
GET /cgi-bin/media/get?access_token=…&media_id=… answers the file with its Content-Type and
`Content-disposition: attachment; filename="…"`, or JSON errcode 40007 for an unknown media id
(and 40001 for a bad token), as the temporary-media download API does.
Faults as WeChat shows them: `failing` answers every send with errcode -1 ("system busy", worth a
retry) until it is cleared; openids in `outside_window` get errcode 45015 (more than 48 hours
since the user's last message: refused for good).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeWeChatApi:
    appid: str
    secret: str
    url: str = ""
    tokens_issued: list[str] = field(default_factory=list)
    sent_messages: list[dict] = field(default_factory=list)
    revoked_tokens: set[str] = field(default_factory=set)
    failing: bool = False
    outside_window: set[str] = field(default_factory=set)
    refused_sends: int = 0
    # media id -> (file bytes, content type): what users "sent" as image messages.
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_downloads: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_tokens(self) -> None:
        """Makes every issued token invalid, as WeChat does when another server fetches one."""
        with self._lock:
            self.revoked_tokens.update(self.tokens_issued)

    def messages_to(self, openid: str) -> list[dict]:
        with self._lock:
            return [message for message in self.sent_messages if message.get("touser") == openid]

    def wait_for_messages(self, openid: str, timeout: float = 60) -> list[dict]:
        """Waits until at least one message for `openid` arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages_to(openid)
            if messages:
                return messages
            time.sleep(0.2)
        return self.messages_to(openid)

    def _issue_token(self, query: dict[str, str]) -> tuple[int, dict]:
        if query.get("grant_type") != "client_credential":
            return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != self.appid or query.get("secret") != self.secret:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        with self._lock:
            token = f"fake-token-{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
        return 200, {"access_token": token, "expires_in": 7200}

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self.media[media_id] = (data, content_type)

    def _token_valid(self, query: dict[str, str]) -> bool:
        with self._lock:
            token = query.get("access_token")
            return (
                bool(self.tokens_issued)
                and token == self.tokens_issued[-1]
                and token not in self.revoked_tokens
            )

    def _media_get(self, query: dict[str, str]) -> tuple[int, dict] | tuple[bytes, str, str]:
        if not self._token_valid(query):
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        media_id = query.get("media_id", "")
        with self._lock:
            found = self.media.get(media_id)
            self.media_downloads.append(media_id)
        if found is None:
            return 200, {"errcode": 40007, "errmsg": "invalid media_id"}
        data, content_type = found
        extension = content_type.rsplit("/", 1)[-1]
        return data, content_type, f'attachment; filename="{media_id}.{extension}"'

    def _custom_send(self, query: dict[str, str], body: bytes) -> tuple[int, dict]:
        if not self._token_valid(query):
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 200, {"errcode": 47001, "errmsg": "data format error"}
        if message.get("msgtype") != "text" or not message.get("text", {}).get("content"):
            return 200, {"errcode": 47001, "errmsg": "data format error"}
        with self._lock:
            if self.failing:
                self.refused_sends += 1
                return 200, {"errcode": -1, "errmsg": "system error"}
            if message.get("touser") in self.outside_window:
                self.refused_sends += 1
                return 200, {"errcode": 45015, "errmsg": "response out of time limit"}
        with self._lock:
            self.sent_messages.append(message)
        return 200, {"errcode": 0, "errmsg": "ok"}


def _handler_for(api: FakeWeChatApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/cgi-bin/token":
                self._answer(*api._issue_token(_flat(url.query)))
            elif url.path == "/cgi-bin/media/get":
                answer = api._media_get(_flat(url.query))
                if isinstance(answer[0], bytes):
                    self._file(*answer)  # type: ignore[arg-type]
                else:
                    self._answer(*answer)  # type: ignore[arg-type]
            else:
                self._answer(404, {"errcode": 404, "errmsg": "not found"})

        def do_POST(self) -> None:
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/cgi-bin/message/custom/send":
                self._answer(*api._custom_send(_flat(url.query), body))
            else:
                self._answer(404, {"errcode": 404, "errmsg": "not found"})

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _file(self, data: bytes, content_type: str, disposition: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-disposition", disposition)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _flat(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query).items()}


@contextmanager
def running_fake_wechat_api(appid: str, secret: str, port: int = 0) -> Iterator[FakeWeChatApi]:
    api = FakeWeChatApi(appid=appid, secret=secret)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
