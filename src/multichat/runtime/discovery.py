"""OAuth endpoints from the authorization server itself: RFC 8414 and OpenID Connect discovery.

Given ``oauth.issuer`` (or ``oauth.metadata_url``), the metadata document is fetched once per
process and checked with authlib's RFC 8414 model: the ``issuer`` it names must be the one
configured (so a document cannot redirect the sign-in elsewhere). Endpoints written in the
config win over discovered ones.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

import httpx2

from multichat.errors import ConfigError, MultichatError

#: Where an issuer publishes its metadata, tried in this order (RFC 8414 section 3, then
#: OpenID Connect Discovery 1.0 section 4).
WELL_KNOWN = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
TIMEOUT = 10.0


class DiscoveryFailed(MultichatError):
    """The authorization server's metadata could not be fetched or does not hold up."""


def metadata_urls(issuer: str) -> list[str]:
    """The metadata URLs of ``issuer``: RFC 8414 inserts the well-known part before the path."""
    parts = urlsplit(issuer.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    urls = [f"{base}{suffix}{parts.path}" for suffix in WELL_KNOWN]
    if parts.path:  # OpenID Connect appends it instead; many servers do the same for 8414
        urls += [f"{issuer.rstrip('/')}{suffix}" for suffix in WELL_KNOWN]
    return list(dict.fromkeys(urls))


@functools.cache
def discover(provider: str, issuer: str | None, metadata_url: str | None) -> dict[str, Any]:
    """The server's metadata (cached per process); the config's issuer must match it.

    Raises:
        ConfigError: neither an issuer nor a metadata URL is configured.
        DiscoveryFailed: no document could be fetched, or it is not valid metadata.
    """
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

    if not issuer and not metadata_url:
        raise ConfigError(f"{provider}: set `oauth.issuer` (or `oauth.metadata_url`) to discover")
    tried: list[str] = []
    for url in [metadata_url] if metadata_url else metadata_urls(str(issuer)):
        try:
            response = httpx2.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        except httpx2.HTTPError as exc:
            tried.append(f"{url}: {type(exc).__name__}")
            continue
        if response.status_code != 200:
            tried.append(f"{url}: HTTP {response.status_code}")
            continue
        try:
            document = response.json()
            metadata = AuthorizationServerMetadata(document)
            metadata.validate_issuer()
            metadata.validate_token_endpoint()
        except (ValueError, KeyError) as exc:
            raise DiscoveryFailed(
                f"{provider}: {url} is not valid OAuth metadata ({exc})"
            ) from None
        if issuer and document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
            raise DiscoveryFailed(
                f"{provider}: {url} names the issuer {document.get('issuer')!r}, not {issuer!r}"
            )
        return dict(document)
    raise DiscoveryFailed(
        f"{provider}: no OAuth metadata found ({'; '.join(tried)}); check `oauth.issuer`"
    )
