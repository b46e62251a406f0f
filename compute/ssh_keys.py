"""SSH public keys as Nova handles them: validation, MD5 fingerprints, generation."""
from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from compute import exception

GENERATED_COMMENT = "Generated-by-Stratus"


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint (``aa:bb:...``) of an OpenSSH public key line.

    :raises: InvalidKeypair when ``public_key`` is not a public key
        cryptography can load (ssh-rsa, ssh-ed25519, ecdsa-sha2-*).
    """
    try:
        raw = public_key.encode("utf-8")
        serialization.load_ssh_public_key(raw)
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, UnicodeError, binascii.Error, TypeError,
            NotImplementedError, crypto_exceptions.UnsupportedAlgorithm):
        raise exception.InvalidKeypair(reason="failed to generate fingerprint")
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate(bits: int = 2048) -> tuple[str, str, str]:
    """A new RSA key pair as Nova makes one: (private PEM, public line, fingerprint)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode("ascii")
    public = "%s %s" % (public, GENERATED_COMMENT)
    return private, public, fingerprint(public)
