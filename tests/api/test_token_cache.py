"""The API's token cache: trusted for its TTL only, never when the TTL is 0, bounded in size."""

from __future__ import annotations

from noc.auth import Principal, TokenCache

NINA = Principal("nina", "noc")


def test_a_verified_token_is_trusted_for_the_ttl_and_no_longer() -> None:
    cache = TokenCache(ttl_s=5)
    cache.put("noc_a", NINA, now=100.0)
    assert cache.get("noc_a", now=104.9) == NINA
    assert cache.get("noc_a", now=105.0) is None  # a revoked token stops working within the TTL
    assert cache.get("noc_b", now=100.0) is None


def test_a_zero_ttl_caches_nothing() -> None:
    cache = TokenCache(ttl_s=0)
    cache.put("noc_a", NINA, now=100.0)
    assert cache.get("noc_a", now=100.0) is None


def test_the_cache_is_bounded_and_drops_the_oldest() -> None:
    cache = TokenCache(ttl_s=60, max_entries=2)
    for i, token in enumerate(("noc_a", "noc_b", "noc_c")):
        cache.put(token, Principal(token, "noc"), now=float(i))
    assert cache.get("noc_a", now=3.0) is None
    assert cache.get("noc_b", now=3.0) == Principal("noc_b", "noc")
    assert cache.get("noc_c", now=3.0) == Principal("noc_c", "noc")
