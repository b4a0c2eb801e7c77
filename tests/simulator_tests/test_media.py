"""Media upload → info → download (Bearer) → delete, limits, inbound media files."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from .support import PNID, TOKEN, error_code

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


def _upload(graph, data=PNG, mime="image/png", name="pic.png", product="whatsapp", **kw):
    fields = {"type": (None, mime), "file": (name, data, mime)}
    if product is not None:
        fields["messaging_product"] = (None, product)
    return graph.http.post(graph.url(f"{PNID}/media"), files=fields,
                           headers=graph.headers(kw.get("token", "default")), timeout=10)


def test_upload_info_download_delete(graph):
    resp = _upload(graph)
    assert resp.status_code == 200, resp.text
    media_id = resp.json()["id"]
    info = graph.get(media_id).json()
    assert info["messaging_product"] == "whatsapp"
    assert info["id"] == media_id and info["mime_type"] == "image/png"
    assert info["file_size"] == len(PNG)
    assert info["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert info["url"].startswith(graph.sim.base_url + f"/_media/{media_id}?")
    assert "sig=" in info["url"]
    download = requests.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"},
                            timeout=10)
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Length"] == str(len(PNG))
    assert graph.delete(media_id).json() == {"success": True}
    assert graph.get(media_id).status_code == 400  # an unknown object, as Meta answers
    assert requests.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 404


def test_download_needs_bearer_and_valid_signature(graph):
    media_id = _upload(graph).json()["id"]
    url = graph.get(media_id).json()["url"]
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer nope"},
                        timeout=10).status_code == 401
    tampered = url.replace("sig=", "sig=0")
    assert requests.get(tampered, headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 404


def test_media_url_expires_after_five_minutes(graph):
    media_id = _upload(graph).json()["id"]
    url = graph.get(media_id).json()["url"]
    graph.sim.advance_clock(301)
    resp = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert resp.status_code == 404
    fresh = graph.get(media_id).json()["url"]
    assert requests.get(fresh, headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 200


def test_media_info_needs_token(graph):
    media_id = _upload(graph).json()["id"]
    assert error_code(graph.get(media_id, token=None)) == 190
    assert error_code(graph.delete(media_id, token="wrong")) == 190


@pytest.mark.parametrize("mime,size,ok", [
    ("image/jpeg", 5 * 1024 * 1024, True),
    ("image/jpeg", 5 * 1024 * 1024 + 1, False),
    ("image/webp", 500 * 1024 + 1, False),
    ("audio/ogg; codecs=opus", 1024, True),
    ("video/mp4", 16 * 1024 * 1024 + 1, False),
    ("application/pdf", 6 * 1024 * 1024, True),
    ("application/x-msdownload", 10, False),
])
def test_upload_limits(graph, mime, size, ok):
    resp = _upload(graph, data=b"\0" * size, mime=mime, name="f.bin")
    if ok:
        assert resp.status_code == 200, resp.text
    else:
        assert resp.status_code == 400 and error_code(resp) == 131053


def test_upload_requires_messaging_product_and_auth(graph):
    assert error_code(_upload(graph, product=None)) == 131008
    assert error_code(_upload(graph, token=None)) == 190


def test_uploaded_media_can_be_sent_by_id(graph, sim):
    sim.customer_sends("34600111222", "hola")
    media_id = _upload(graph).json()["id"]
    resp = graph.send("34600111222", {"type": "image",
                                      "image": {"id": media_id, "caption": "Mira 👀"}})
    assert resp.status_code == 200, resp.text


MAGIC = {
    ("image", False): (b"\xff\xd8\xff", "image/jpeg"),
    ("sticker", False): (b"RIFF", "image/webp"),
    ("audio", True): (b"OggS", "audio/ogg; codecs=opus"),
    ("audio", False): (b"ID3", "audio/mpeg"),
    ("video", False): (b"\x00\x00\x00\x18ftyp", "video/mp4"),
    ("document", False): (b"%PDF-", "application/pdf"),
}


@pytest.mark.parametrize("kind,voice", list(MAGIC))
def test_inbound_media_is_downloadable(graph, sim, kind, voice):
    result = sim.customer_sends("5511987654321", type=kind, voice=voice, caption="c")
    obj = result["message"][kind]
    info = graph.get(result["media_id"]).json()
    magic, mime = MAGIC[(kind, voice)]
    assert obj["mime_type"] == info["mime_type"] == mime
    data = requests.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).content
    assert data.startswith(magic)
    assert base64.b64decode(obj["sha256"]) == hashlib.sha256(data).digest()
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
