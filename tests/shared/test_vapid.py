"""VAPID keys: base64url without padding, a fresh pair that belongs together, a private
key's public key, and the subjects the push signer accepts."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.vapid import (
    BadKey,
    b64url_decode,
    b64url_encode,
    new_key_pair,
    public_key_of,
    vapid_subject_is_valid,
)


def test_base64url_has_no_padding_and_reads_back_padded_or_not():
    for data in (b"", b"\xfb", b"\xfb\xff", b"\xfb\xff\xfe", bytes(range(256))):
        text = b64url_encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64url_decode(text) == data
        assert b64url_decode(text + "=" * (-len(text) % 4)) == data


@pytest.mark.parametrize("text", ["a=b", "ab==cd", "AAAA=AAAA", "not base64!", "é", "abcde", None])
def test_what_is_not_base64url_is_refused(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_a_fresh_pair_is_a_p256_point_and_scalar_that_belong_together():
    public, private = new_key_pair()
    point = b64url_decode(public)
    assert len(point) == 65 and point[0] == 4, "the uncompressed point"
    assert len(b64url_decode(private)) == 32
    assert public_key_of(private) == public
    assert ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    assert new_key_pair() != (public, private)


@pytest.mark.parametrize(
    "private", ["", "short", b64url_encode(b"\x01" * 31), b64url_encode(b"\x00" * 32), "=" * 43]
)
def test_a_private_key_out_of_shape_is_a_bad_key(private):
    with pytest.raises(BadKey):
        public_key_of(private)


@pytest.mark.parametrize(
    "subject, valid",
    [
        ("mailto:alerts@example.com", True),
        ("https://example.com", True),
        ("https://example.com:8443", False),
        ("https://example.com/path", False),
        ("http://example.com", False),
        ("alerts@example.com", False),
    ],
)
def test_a_subject_is_valid_as_the_signer_takes_it(subject, valid):
    assert vapid_subject_is_valid(subject) is valid
