"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs (pure functions)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, computed bottom-up (no recursion limit on large logs)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])  # RFC 6962 promotes an odd node unchanged
        level = paired
    return level[0]


class Tree:
    """The root of a growing log, kept as the roots of its perfect subtrees: O(log n) memory, so a log of any
    size can be hashed as it streams past (the same MTH as `root`)."""

    def __init__(self) -> None:
        self._subtrees: list[tuple[int, bytes]] = []  # (size, hash), sizes strictly decreasing
        self.size = 0

    def append(self, leaf: bytes) -> None:
        size, node = 1, leaf
        while self._subtrees and self._subtrees[-1][0] == size:
            _, left = self._subtrees.pop()
            size, node = size * 2, node_hash(left, node)
        self._subtrees.append((size, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._subtrees:
            return EMPTY_ROOT
        node = self._subtrees[-1][1]
        for _, left in reversed(self._subtrees[:-1]):
            node = node_hash(left, node)
        return node


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1, for leaf `index` of the tree over `leaves`."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 section 2.1.2: that the tree of `first` leaves is a prefix."""
    if not 0 < first <= len(leaves):
        raise ValueError(f"no consistency proof from {first} to {len(leaves)}")
    return _subproof(first, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def consistency_ranges(first: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) whose subtree hashes make PROOF(first, D[size]), in the proof's order: the same
    proof as `consistency_proof`, to be hashed as the leaves stream past without holding them."""
    if not 0 < first <= size:
        raise ValueError(f"no consistency proof from {first} to {size}")
    return _subranges(first, 0, size, True)


def _subranges(m: int, start: int, end: int, complete: bool) -> list[tuple[int, int]]:
    n = end - start
    if m == n:
        return [] if complete else [(start, end)]
    k = _split(n)
    if m <= k:
        return [*_subranges(m, start, start + k, complete), (start + k, end)]
    return [*_subranges(m - k, start + k, end, False), (start, start + k)]


class Step(NamedTuple):
    """One step up an inclusion proof: the sibling, which side of the path it lies on, and the hash they make."""

    sibling: bytes
    side: str  # "left": node = H(0x01 || sibling || path); "right": node = H(0x01 || path || sibling)
    node: bytes


def inclusion_steps(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> list[Step] | None:
    """Each step of RFC 9162 section 2.1.3.2 from the leaf towards the root (the last node is the root the proof
    leads to); None when the proof cannot be one for leaf `index` of a tree of `size` leaves."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    steps = []
    for p in proof:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r, side = node_hash(p, r), "left"
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r, side = node_hash(r, p), "right"
        steps.append(Step(p, side, r))
        fn >>= 1
        sn >>= 1
    return steps if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    steps = inclusion_steps(index, size, leaf, proof)
    return steps is not None and (steps[-1].node if steps else leaf) == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # first is a power of two: its root starts the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
