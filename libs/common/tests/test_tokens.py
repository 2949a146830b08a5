import time

import jwt
import pytest

from soporte_common.tokens import ALGORITHM, InvalidTokenError, TokenCodec, key_id

SECRET = "a" * 40


def test_issued_token_round_trips_with_its_claims() -> None:
    codec = TokenCodec(SECRET)
    token, claims = codec.issue(user="ana", nombre="Ana", rol="user", ttl_seconds=60)
    decoded = codec.decode(token)
    assert decoded == claims
    assert decoded.exp - decoded.iat == 60
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM


def test_expired_token_is_refused() -> None:
    codec = TokenCodec(SECRET)
    token, _ = codec.issue(user="ana", nombre="Ana", rol="user", ttl_seconds=-5)
    with pytest.raises(InvalidTokenError):
        codec.decode(token)


def test_token_signed_with_another_key_is_refused() -> None:
    token, _ = TokenCodec("b" * 40).issue(user="ana", nombre="Ana", rol="admin", ttl_seconds=60)
    with pytest.raises(InvalidTokenError):
        TokenCodec(SECRET).decode(token)


def test_unsigned_alg_none_token_is_refused() -> None:
    now = int(time.time())
    payload = {
        "user": "ana",
        "nombre": "Ana",
        "rol": "admin",
        "iat": now,
        "exp": now + 60,
        "jti": "x",
    }
    token = jwt.encode(payload, key=None, algorithm="none", headers={"kid": key_id(SECRET)})
    with pytest.raises(InvalidTokenError):
        TokenCodec(SECRET).decode(token)


def test_token_without_required_claims_is_refused() -> None:
    token = jwt.encode(
        {"user": "ana", "rol": "user"}, SECRET, algorithm=ALGORITHM, headers={"kid": key_id(SECRET)}
    )
    with pytest.raises(InvalidTokenError):
        TokenCodec(SECRET).decode(token)


def test_previous_key_still_verifies_after_rotation_but_never_signs() -> None:
    old = TokenCodec("old" * 12)
    token, _ = old.issue(user="ana", nombre="Ana", rol="user", ttl_seconds=60)
    rotated = TokenCodec("new" * 12, previous=["old" * 12])
    assert rotated.decode(token).user == "ana"
    new_token, _ = rotated.issue(user="ana", nombre="Ana", rol="user", ttl_seconds=60)
    assert jwt.get_unverified_header(new_token)["kid"] == key_id("new" * 12)
    with pytest.raises(InvalidTokenError):
        TokenCodec("new" * 12).decode(token)  # once the old key is dropped
