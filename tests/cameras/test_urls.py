"""Stream URLs: validation, credentials kept apart, masking everywhere."""

import pytest

from dieuhanh.cameras.urls import (
    display_url,
    origin,
    parse_stream_url,
    with_credentials,
)
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.redact import mask, scrub
from dieuhanh.core.secrets import CredentialCipher, CredentialKeyMissing, Credentials
from tests.conftest import CREDENTIAL_KEY


def test_credentials_are_taken_out_of_the_url() -> None:
    parsed = parse_stream_url("rtsp://admin:Abc%40123@10.1.2.3:554/Streaming/Channels/101")
    assert parsed.url == "rtsp://10.1.2.3:554/Streaming/Channels/101"
    assert parsed.credentials == Credentials("admin", "Abc@123")
    assert parsed.kind == "rtsp"
    opened = with_credentials(parsed.url, parsed.credentials)
    assert opened == "rtsp://admin:Abc%40123@10.1.2.3:554/Streaming/Channels/101"
    assert (
        display_url(parsed.url, parsed.credentials)
        == "rtsp://admin:****@10.1.2.3:554/Streaming/Channels/101"
    )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.0.0.1/live/cam1.m3u8", "hls"),
        ("https://vms.example.vn/live/12.flv", "http_flv"),
        ("http://10.0.0.1/cgi-bin/mjpg/video.cgi", "mjpeg"),
        ("rtsps://cam.example.vn/stream", "rtsp"),
    ],
)
def test_other_stream_kinds(url: str, kind: str) -> None:
    assert parse_stream_url(url).kind == kind


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "invalid_url"),
        ("ftp://10.0.0.1/stream", "unsupported_scheme"),
        ("file:///etc/passwd", "unsupported_scheme"),
        ("10.0.0.1:554/stream", "unsupported_scheme"),
        ("rtsp:///no-host", "invalid_url"),
        ("rtsp://10.0.0.1:99999/x", "invalid_url"),
        ("rtsp://10.0.0.1/a b", "invalid_url"),
        ("rtsp://10.0.0.1/" + "x" * 500, "invalid_url"),
    ],
)
def test_bad_urls_are_refused(url: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_stream_url(url)
    assert caught.value.code == code


def test_error_messages_never_show_the_password() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_stream_url("rtsp://admin:s3cretPass@10.0.0.1:99999/x")
    assert "s3cretPass" not in caught.value.message


def test_mask_and_scrub_free_text() -> None:
    text = "Server returned 401 for 'rtsp://admin:s3cret@10.0.0.1/x' and http://u:p4ss@h/y"
    assert (
        mask(text) == "Server returned 401 for 'rtsp://admin:****@10.0.0.1/x' and http://u:****@h/y"
    )
    assert "s3cret" not in scrub("password s3cret in a message", ["s3cret"])


def test_origin_is_scheme_host_and_effective_port() -> None:
    assert origin("rtsp://Cam.Example/a") == origin("rtsp://cam.example:554/b")
    assert origin("rtsp://10.0.0.1/a") != origin("rtsp://10.0.0.1:8554/a")
    assert origin("rtsp://10.0.0.1/a") != origin("rtsps://10.0.0.1/a")
    assert origin("rtsp://10.0.0.1/a") != origin("rtsp://10.0.0.2/a")


def test_credentials_round_trip_and_key_rotation() -> None:
    from cryptography.fernet import Fernet

    old = CredentialCipher([CREDENTIAL_KEY.encode()])
    token = old.encrypt(Credentials("admin", "mật khẩu"))
    assert token and "admin" not in token and "mật" not in token
    new_key = Fernet.generate_key()
    rotated = CredentialCipher([new_key, CREDENTIAL_KEY.encode()])
    assert rotated.decrypt(token) == Credentials("admin", "mật khẩu")
    with pytest.raises(CredentialKeyMissing):
        CredentialCipher([new_key]).decrypt(token)
    with pytest.raises(CredentialKeyMissing, match="CREDENTIAL_KEYS"):
        CredentialCipher([]).encrypt(Credentials("a", "b"))
