"""The Merkle code against the published RFC 6962 test vectors (the 8-leaf Certificate Transparency tree)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.audit import merkle

LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PATHS = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
HASHED = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def test_roots_of_every_size_match_the_published_vectors() -> None:
    assert merkle.root([]) == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    for size, expected in enumerate(ROOTS, start=1):
        assert merkle.root(HASHED[:size]).hex() == expected


@pytest.mark.parametrize(("index", "size"), list(PATHS))
def test_inclusion_proofs_match_the_published_vectors(index: int, size: int) -> None:
    proof = merkle.inclusion_proof(index, HASHED[:size])
    assert [p.hex() for p in proof] == PATHS[(index, size)]
    assert merkle.verify_inclusion(index, size, HASHED[index], proof, bytes.fromhex(ROOTS[size - 1]))
    assert not merkle.verify_inclusion(index, size, HASHED[index - 1], proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second"), list(CONSISTENCY))
def test_consistency_proofs_match_the_published_vectors(first: int, second: int) -> None:
    proof = merkle.consistency_proof(first, HASHED[:second])
    assert [p.hex() for p in proof] == CONSISTENCY[(first, second)]
    old, new = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert merkle.verify_consistency(first, second, old, new, proof)
    assert not merkle.verify_consistency(first, second, new, old, proof)


@given(leaves=st.lists(st.binary(max_size=8), min_size=1, max_size=40), data=st.data())
def test_every_proof_verifies_for_any_tree(leaves: list[bytes], data: st.DataObject) -> None:
    hashed = [merkle.leaf_hash(leaf) for leaf in leaves]
    size = len(hashed)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))
    assert merkle.verify_inclusion(
        index, size, hashed[index], merkle.inclusion_proof(index, hashed), merkle.root(hashed)
    )
    proof = merkle.consistency_proof(first, hashed)
    assert merkle.verify_consistency(first, size, merkle.root(hashed[:first]), merkle.root(hashed), proof)


def test_a_growing_tree_has_the_published_root_at_every_size() -> None:
    tree = merkle.Tree()
    assert tree.root() == merkle.EMPTY_ROOT
    for size, leaf in enumerate(HASHED, start=1):
        tree.append(leaf)
        assert tree.root().hex() == ROOTS[size - 1]


@given(leaves=st.lists(st.binary(max_size=8), max_size=70))
def test_a_growing_tree_agrees_with_the_recursive_definition(leaves: list[bytes]) -> None:
    tree = merkle.Tree()
    for leaf in leaves:
        tree.append(merkle.leaf_hash(leaf))
    assert tree.root() == merkle.root([merkle.leaf_hash(leaf) for leaf in leaves])
