"""Sealing the sites' identity secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256)
from the JWT signing secret, so a copy of the database alone does not let anyone sign
identities for a company's site. Auth must read the secret itself to check HS256
signatures, which is why it is encrypted rather than hashed.

A sealed value names the key that sealed it (`<kid>.<nonce+ciphertext, base64>`): after a
JWT key rotation, auth opens old values with a previous key and seals them again with the
current one at its next start (SiteStore.reseal), before the previous key is dropped.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from soporte_common.tokens import key_id

_INFO: Final = b"soporte: identity secrets of the widget's sites"
_NONCE_BYTES: Final = 12


class SealError(Exception):
    """A sealed value none of the configured keys opens."""


def _derive(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return AESGCM(key)


class SecretBox:
    def __init__(self, secret: str, previous: Sequence[str] = ()) -> None:
        self.current_kid = key_id(secret)
        self._keys = {key_id(s): _derive(s) for s in (*previous, secret)}

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self.current_kid].encrypt(nonce, plaintext.encode(), None)
        return f"{self.current_kid}.{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> str:
        kid, _, body = sealed.partition(".")
        box = self._keys.get(kid)
        if box is None:
            raise SealError(
                f"sealed under key {kid}, which is neither SOPORTE_JWT_SECRET nor one of "
                "SOPORTE_JWT_PREVIOUS_SECRETS: put that key back among the previous ones"
            )
        raw = base64.b64decode(body)
        try:
            return box.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
        except InvalidTag as exc:
            raise SealError(f"a value sealed under key {kid} does not open") from exc

    def is_current(self, sealed: str) -> bool:
        return sealed.partition(".")[0] == self.current_kid
