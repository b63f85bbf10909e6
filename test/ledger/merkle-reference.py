#!/usr/bin/env python3
"""
Independent reference for test/ledger/merkle-vectors.ts.

Written straight from the recursive definitions of RFC 6962 §2.1 (MTH),
§2.1.1 (PATH) and §2.1.2 (PROOF / SUBPROOF), using only hashlib, and sharing
no code with src/ledger/merkle.ts (which is iterative and level-cached).
Run once: `python3 test/ledger/merkle-reference.py`; its output was pasted
into merkle-vectors.ts. Not run by the test suite.
"""
import hashlib

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]


def h(b):
    return hashlib.sha256(b).digest()


def k_of(n):
    # largest power of two smaller than n (n > 1)
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    n = len(d)
    if n == 0:
        return h(b"")
    if n == 1:
        return h(b"\x00" + d[0])
    k = k_of(n)
    return h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    n = len(d)
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    return subproof(m, d, True)


print("leaf hashes")
for i, x in enumerate(LEAVES):
    print(i, h(b"\x00" + x).hex())
print("roots")
print(0, mth([]).hex())
for n in range(1, 9):
    print(n, mth(LEAVES[:n]).hex())
print("inclusion (index, size, path)")
for n in range(1, 9):
    for i in range(n):
        print(i, n, [p.hex() for p in path(i, LEAVES[:n])])
print("consistency (m, n, proof)")
for n in range(1, 9):
    for m in range(1, n + 1):
        print(m, n, [p.hex() for p in proof(m, LEAVES[:n])])
