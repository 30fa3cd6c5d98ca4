"""What the WeChat server sends to our webhook: XML messages, signed (and encrypted) as documented.

Signatures are computed here with hashlib, independently of the channel code; encryption uses
wechatpy's AES implementation, which is what WeChat's own sample code does.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
import xml.etree.ElementTree as ElementTree

import httpx
from wechatpy.crypto import PrpCrypto

WEBHOOK_PATH = "/webhooks/wechat/webhook"
ACCOUNT_ID = "gh_pos_assistant"


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signed_query(token: str, timestamp: int | None = None, nonce: str | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    once = nonce or uuid.uuid4().hex[:10]
    return {"signature": sha1_signature(token, stamp, once), "timestamp": stamp, "nonce": once}


def text_message(openid: str, content: str, msg_id: int, create_time: int | None = None) -> str:
    created = int(time.time()) if create_time is None else create_time
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def image_message(openid: str, msg_id: int, media_id: str | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[http://mmbiz.example/pic.jpg]]></PicUrl>"
        f"<MediaId><![CDATA[{media_id or f'media-{msg_id}'}]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def voice_message(openid: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[media-{msg_id}]]></MediaId><Format><![CDATA[amr]]></Format>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_message(openid: str, event: str, create_time: int | None = None) -> str:
    created = int(time.time()) if create_time is None else create_time
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def post(rasa_url: str, query: dict, body: str | bytes, timeout: float = 60) -> httpx.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return httpx.post(
        rasa_url + WEBHOOK_PATH,
        params=query,
        content=data,
        headers={"Content-Type": "text/xml"},
        timeout=timeout,
    )


def post_signed(rasa_url: str, token: str, body: str | bytes) -> httpx.Response:
    return post(rasa_url, signed_query(token), body)


def reply_fields(xml_text: str) -> dict[str, str]:
    """The children of a passive reply (our own server's XML, so the stdlib parser is fine)."""
    root = ElementTree.fromstring(xml_text)
    assert root.tag == "xml", xml_text
    return {child.tag: child.text or "" for child in root}


class SafeModeWeChat:
    """Encrypts messages and decrypts replies the way WeChat's safe mode (encrypt_type=aes) does."""

    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        self.token = token
        self.appid = appid
        self.key = base64.b64decode(encoding_aes_key + "=")

    def encrypted_request(self, plain_xml: str) -> tuple[dict, str]:
        query = signed_query(self.token)
        encrypted = PrpCrypto(self.key).encrypt(plain_xml, self.appid)
        encrypted_text = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sha1_signature(
            self.token, query["timestamp"], query["nonce"], encrypted_text
        )
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted_text}]]></Encrypt></xml>"
        )
        return query, body

    def decrypt_reply(self, reply_xml: str) -> dict[str, str]:
        """Checks the reply's MsgSignature and returns the decrypted reply's fields."""
        envelope = reply_fields(reply_xml)
        expected = sha1_signature(
            self.token, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
        )
        assert envelope["MsgSignature"] == expected, "reply signature does not match"
        plain = PrpCrypto(self.key).decrypt(envelope["Encrypt"], self.appid)
        return reply_fields(plain.decode() if isinstance(plain, bytes) else plain)
