"""Secret encryption at rest: keys from config/env, rotation, tamper detection."""

import pytest
from cryptography.fernet import Fernet

from lib import crypto
from lib.crypto import InvalidSecret, MissingSecretKey, SecretBox

PLAINTEXT = "EAAG-super-secret-token"


@pytest.fixture
def key():
    return crypto.generate_key()


def test_round_trip(key):
    box = SecretBox([key])
    token = box.encrypt(PLAINTEXT)
    assert token.startswith("wacrm1:")
    assert PLAINTEXT not in token
    assert box.decrypt(token) == PLAINTEXT
    assert box.encrypt(PLAINTEXT) != token  # random IV: equal secrets do not look equal


def test_non_ascii_and_empty(key):
    box = SecretBox([key])
    assert box.decrypt(box.encrypt("sênha 🔑 секрет")) == "sênha 🔑 секрет"
    assert box.decrypt(box.encrypt("")) == ""


def test_generated_key_is_a_fernet_key(key):
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert crypto.generate_key() != key


def test_wrong_key_raises_invalid_secret(key):
    token = SecretBox([key]).encrypt(PLAINTEXT)
    with pytest.raises(InvalidSecret) as caught:
        SecretBox([crypto.generate_key()]).decrypt(token)
    assert token not in str(caught.value)
    assert PLAINTEXT not in str(caught.value)
    assert issubclass(InvalidSecret, ValueError)


def test_rotation(key):
    old_token = SecretBox([key]).encrypt(PLAINTEXT)
    new_key = crypto.generate_key()
    both = SecretBox([new_key, key])
    assert both.decrypt(old_token) == PLAINTEXT
    rotated = both.rotate(old_token)
    assert rotated.startswith("wacrm1:")
    assert SecretBox([new_key]).decrypt(rotated) == PLAINTEXT
    with pytest.raises(InvalidSecret):
        SecretBox([key]).decrypt(rotated)
    assert SecretBox([new_key]).decrypt(both.encrypt("fresh")) == "fresh"


def test_rotate_with_unknown_key_raises(key):
    token = SecretBox([crypto.generate_key()]).encrypt(PLAINTEXT)
    with pytest.raises(InvalidSecret):
        SecretBox([key]).rotate(token)


def test_tampering_is_detected(key):
    box = SecretBox([key])
    token = box.encrypt(PLAINTEXT)
    body = token[len("wacrm1:"):]
    middle = len(body) // 2
    flipped = body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1:]
    for bad in ("wacrm1:" + flipped, token[:-4], "wacrm1:" + body + "x", "wacrm1:é"):
        with pytest.raises(InvalidSecret):
            box.decrypt(bad)


@pytest.mark.parametrize("value", [PLAINTEXT, "", "wacrm1:", None, 42, "WACRM1:abc"])
def test_unprefixed_values_are_not_encrypted(key, value):
    assert SecretBox.is_encrypted(value) is False
    with pytest.raises(InvalidSecret) as caught:
        SecretBox([key]).decrypt(value)
    assert PLAINTEXT not in str(caught.value)


def test_is_encrypted(key):
    assert SecretBox.is_encrypted(SecretBox([key]).encrypt("x"))


def test_missing_key_message_tells_the_admin_what_to_set():
    with pytest.raises(MissingSecretKey) as caught:
        SecretBox([])
    message = str(caught.value)
    assert "whatsapp_crm_secret_key" in message
    assert "WHATSAPP_CRM_SECRET_KEY" in message
    with pytest.raises(MissingSecretKey):
        SecretBox.from_config(None, environ={})


@pytest.mark.parametrize("bad_key", ["not-a-key", "short", "x" * 44, ""])
def test_malformed_key_is_not_echoed(key, bad_key):
    with pytest.raises(ValueError) as caught:
        SecretBox([key, bad_key])
    assert "#2" in str(caught.value)
    if bad_key:
        assert bad_key not in str(caught.value)


def test_repr_hides_keys(key):
    box = SecretBox([key])
    assert key not in repr(box)
    assert repr(box) == "SecretBox(keys=1)"


def test_load_keys():
    environ = {crypto.ENV_VAR: "env1, env2"}
    assert crypto.load_keys(None, environ) == ["env1", "env2"]
    assert crypto.load_keys("", environ) == ["env1", "env2"]
    assert crypto.load_keys(" cfg1 ,cfg2,,cfg1 ", environ) == ["cfg1", "cfg2"]  # config wins
    assert crypto.load_keys(None, {}) == []
    assert crypto.load_keys("  ", {crypto.ENV_VAR: " , "}) == []
    assert crypto.CONFIG_OPTION == "whatsapp_crm_secret_key"


def test_from_config_uses_env_when_config_empty(key, monkeypatch):
    monkeypatch.setenv(crypto.ENV_VAR, key)
    token = SecretBox.from_config(None).encrypt(PLAINTEXT)
    assert SecretBox([key]).decrypt(token) == PLAINTEXT


def test_encrypt_refuses_non_text(key):
    with pytest.raises(TypeError):
        SecretBox([key]).encrypt(b"bytes")
