"""In-memory sliding-window rate limits, keyed on the real client; keys (addresses) live only
as long as their window."""
from __future__ import annotations

import ipaddress
import time
from collections import deque

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_proxies(text: str) -> tuple[Network, ...]:
    """FORUM_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges (empty: none)."""
    networks = []
    for part in text.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"FORUM_TRUSTED_PROXIES: {part.strip()!r} is not an IP address"
                                 " or a CIDR range (e.g. 127.0.0.1, 10.0.0.0/8)") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class RateLimiter:
    def __init__(self, trusted_proxies: str = "") -> None:
        self._hits: dict[str, deque[float]] = {}
        self._last_sweep = time.monotonic()
        self.trusted = parse_proxies(trusted_proxies)

    def client(self, peer: str | None, forwarded_for: list[str]) -> str:
        """The address limits are counted against.

        Only a peer that is a trusted proxy may name the client, through X-Forwarded-For:
        each proxy appends the address it received from, so the right-most address that is not
        a trusted proxy is the first one nobody we trust could have invented.
        """
        address = _address(peer or "")
        if address is None:
            return peer or "unknown"
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        while self._is_trusted(address) and hops:
            previous = _address(hops.pop())
            if previous is None:  # garbage from a proxy we trust: stop at that proxy
                break
            address = previous
        return self._key(address)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    @staticmethod
    def _key(address: Address) -> str:
        # One IPv6 subscriber gets a whole /64: counting single addresses would let it
        # step around every limit.
        if isinstance(address, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((address, 64), strict=False))
        return str(address)

    def retry_after(self, key: str, limit: int, window: float) -> int:
        """Seconds to wait before `key` may act again (0: it may act now). Does not count."""
        hits = self._recent(key, window)
        if len(hits) < limit:
            return 0
        return max(1, int(hits[0] + window - time.monotonic()) + 1)

    def hit(self, key: str, window: float) -> None:
        self._recent(key, window).append(time.monotonic())
        self._sweep(window)

    def unhit(self, key: str) -> None:
        """Take back the latest hit of `key` (an attempt that turned out not to count)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    def clear(self, key: str) -> None:
        self._hits.pop(key, None)

    def _recent(self, key: str, window: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        cutoff = time.monotonic() - window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return hits

    def _sweep(self, window: float) -> None:
        # Forget idle keys so that no address is kept longer than needed against abuse.
        now = time.monotonic()
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        horizon = max(window, 3600)
        for key in [k for k, v in self._hits.items() if not v or v[-1] < now - horizon]:
            del self._hits[key]
