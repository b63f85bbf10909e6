#!/usr/bin/env python3
"""
Independent reference for the golden entries in test/ledger/entry.test.ts.

Builds the entries with Python's json (sort_keys, no whitespace: identical to
RFC 8785 for ASCII strings and integers, which is all these entries hold),
signs "swarm-ledger-entry-v1\\n" + canonical(entry without sig) with the
`cryptography` package's Ed25519, and prints the leaf input and its RFC 6962
leaf hash. Shares no code with src/ledger. Run once:
`python3 test/ledger/entry-reference.py`; output pasted into the test.
"""
import base64, hashlib, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key(fill):
    sk = Ed25519PrivateKey.from_private_bytes(bytes([fill]) * 32)
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return sk, pub, hashlib.sha256(pub).hexdigest()


def entry(sk, unsigned):
    sig = sk.sign(b"swarm-ledger-entry-v1\n" + canon(unsigned))
    signed = dict(unsigned, sig=base64.b64encode(sig).decode())
    leaf = canon(signed)
    return signed, leaf


sk1, pub1, id1 = key(1)
sk2, pub2, id2 = key(2)
print("key1 id", id1)
print("key2 id", id2, "pub b64", base64.b64encode(pub2).decode())

_, leaf = entry(sk1, {
    "v": 1, "kind": "result-submitted", "seq": 7, "time": 1700000000000, "actor": id1,
    "body": {"run": "run-1", "unit": "r3/s2", "result": hashlib.sha256(b"delta").hexdigest()},
})
print("result-submitted leaf", leaf.decode())
print("leaf hash", hashlib.sha256(b"\x00" + leaf).hexdigest())

_, leaf = entry(sk2, {
    "v": 1, "kind": "provider-registered", "time": 1700000000001, "actor": id2,
    "body": {"publicKey": base64.b64encode(pub2).decode(), "name": "alice"},
})
print("provider-registered leaf", leaf.decode())
print("leaf hash", hashlib.sha256(b"\x00" + leaf).hexdigest())
