"""Authenticated encryption of bundles with age (https://age-encryption.org,
Debian package `age`).

Why age: its format is specified and small (X25519 recipients, the
payload in 64 KiB ChaCha20-Poly1305 chunks, the last one marked, so any
flipped, dropped, reordered or truncated byte fails decryption); it is
maintained, packaged by Debian 12, and encrypts to a public key, so the
host that ships backups needs no secret able to read them.  openssl enc
has no authenticated mode, and gpg releases plaintext before it checks
the integrity.

Key files are age's own: an identity file from `age-keygen -o key.txt`
(encrypting to it uses its public key; decrypting needs it), or, for
encrypting only, a recipients file with one `age1...` public key per line
(`age-keygen -y key.txt > key.pub`).

decrypt() writes to a temporary name and returns only when age has
checked every chunk: a damaged or tampered bundle never yields a byte.
"""

import os
import subprocess

MAGIC = b"age-encryption.org/v1\n"


class SealError(Exception):
    pass


def is_sealed(path):
    """Does path hold an age-encrypted file?"""
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def key_kind(path):
    """'identity' for an age identity file, 'recipients' for a file of age
    public keys; SealError for anything else."""
    try:
        with open(path) as f:
            lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    except (OSError, UnicodeDecodeError) as e:
        raise SealError("cannot read the key file %s: %s" % (path, e))
    if lines and all(ln.startswith("AGE-SECRET-KEY-1") for ln in lines):
        return "identity"
    if lines and all(ln.startswith("age1") or ln.startswith("ssh-") for ln in lines):
        return "recipients"
    raise SealError("%s is not an age key file: make one with `age-keygen -o %s` (or give "
                    "a file of age1... public keys to encrypt only)" % (path, path))


def _run(argv):
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    except OSError as e:
        raise SealError("cannot run %s: %s (install the Debian package age)" % (argv[0], e))


def encrypt(src, dst, keyfile, age="age"):
    """Encrypt src to dst for the key in keyfile."""
    flag = "-i" if key_kind(keyfile) == "identity" else "-R"
    p = _run([age, "--encrypt", flag, keyfile, "-o", dst, src])
    if p.returncode != 0:
        raise SealError("age --encrypt failed: %s" % p.stderr.decode("utf-8", "replace").strip())


def decrypt(src, dst, keyfile, age="age"):
    """Decrypt src to dst with the identity in keyfile, verifying every
    chunk; on any failure dst does not exist and SealError says why."""
    if key_kind(keyfile) != "identity":
        raise SealError("%s holds public keys only: decrypting needs the identity file "
                        "(AGE-SECRET-KEY-...)" % keyfile)
    tmp = dst + ".decrypting"
    try:
        p = _run([age, "--decrypt", "-i", keyfile, "-o", tmp, src])
        if p.returncode != 0:
            why = p.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SealError("%s: decryption failed, the bundle is damaged or tampered with, "
                            "or the key is not its key (%s)" % (src, why[0] if why else "age"))
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
