"""Who is asking: the request's principal, from a verified JWT bearer token or a trusted header.

With no JWT key configured, the principal is the trusted header (``X-Remote-User`` by
default) that an authenticating proxy in front of the facade sets. With a key
configured (an HS256 secret, an RS256 public key PEM file or a JWKS file), the principal
is a claim of the verified bearer token, and the trusted header is ignored: a client
could set it itself. A bad, expired or wrongly signed token raises ``Unauthenticated``.

>>> authenticator = build_authenticator(settings)
>>> authenticator.principal(request.headers)
Principal(user='alice', groups=('Clerk',), roles=())

The principal's groups and roles come from trusted headers (``X-Remote-Groups`` and
``X-Remote-Roles``, comma-separated) or, with a JWT key, from the token's claims
(``groups`` and ``roles``: a list of strings or one comma-separated string).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.datastructures import Headers

from backend.errors import BadInput
from backend.limits import check_name
from resolvers.principal import Principal

from .settings import Settings

__all__ = [
    "Authenticator",
    "BearerToken",
    "TrustedHeader",
    "Unauthenticated",
    "build_authenticator",
]

_BEARER = "bearer "


class Unauthenticated(Exception):
    """The request's credentials are missing (where required), invalid or expired.

    ``challenge`` is the ``WWW-Authenticate`` header value to answer with, if any.
    """

    def __init__(self, message: str, *, challenge: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.challenge = challenge


class Authenticator(Protocol):
    """Finds the principal of a request from its headers."""

    def principal(self, headers: Headers) -> Principal | None:
        """The principal, None if anonymous; raises ``Unauthenticated``."""
        ...


@dataclass(frozen=True, slots=True)
class TrustedHeader:
    """The principal is a header that a proxy in front of the facade sets and vouches for.

    Each trusted header must come at most once (a second one could be the client's own,
    appended after the proxy's: refused, never picked), and its value is UTF-8; every
    name in it is a valid user, group or role name. Anything else is ``Unauthenticated``.
    """

    header: str = "X-Remote-User"
    groups_header: str = "X-Remote-Groups"
    roles_header: str = "X-Remote-Roles"
    required: bool = False

    def principal(self, headers: Headers) -> Principal | None:
        user = _trusted(headers, self.header) or None
        if user is None:
            if self.required:
                raise Unauthenticated(f"authentication required: no {self.header} header")
            return None
        return Principal(
            _valid(self.header, user),
            groups=_valid_names(self.groups_header, _trusted(headers, self.groups_header)),
            roles=_valid_names(self.roles_header, _trusted(headers, self.roles_header)),
        )


@dataclass(frozen=True, slots=True)
class BearerToken:
    """The principal is a claim of a JWT bearer token verified with the configured keys.

    ``keys`` maps an algorithm (``HS256``, ``RS256``) to the key that verifies it, and
    ``key_set`` holds RS256 keys by ``kid``; the token's own ``alg`` picks among them, so
    a public key is never used as an HMAC secret.
    """

    keys: Mapping[str, Any] = field(default_factory=dict)
    key_set: jwt.PyJWKSet | None = None
    claims: Sequence[str] = ("preferred_username", "sub")
    groups_claim: str = "groups"
    roles_claim: str = "roles"
    audience: str | None = None
    issuer: str | None = None
    leeway_s: float = 0.0
    required: bool = False

    def principal(self, headers: Headers) -> Principal | None:
        authorization = headers.get("authorization", "")
        if not authorization.lower().startswith(_BEARER):
            if self.required:
                raise Unauthenticated(
                    "authentication required: no bearer token", challenge="Bearer"
                )
            return None
        token = authorization[len(_BEARER) :].strip()
        try:
            header = jwt.get_unverified_header(token)
            algorithm = str(header.get("alg"))
            claims = jwt.decode(
                token,
                self._key(algorithm, header.get("kid")),
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as error:
            raise _invalid(f"invalid token: {error}") from None
        for name in self.claims:
            value = claims.get(name)
            if isinstance(value, str) and value:
                try:
                    check_name(name, value)
                    groups = _claim_names(claims.get(self.groups_claim))
                    roles = _claim_names(claims.get(self.roles_claim))
                    for group in groups:
                        check_name(self.groups_claim, group)
                    for role in roles:
                        check_name(self.roles_claim, role)
                except BadInput as error:
                    raise _invalid(f"invalid token: {error.message}") from None
                return Principal(value, groups=groups, roles=roles)
        raise _invalid(f"the token has none of the claims {', '.join(self.claims)}")

    def _key(self, algorithm: str, kid: object) -> Any:
        if algorithm == "RS256" and self.key_set is not None:
            matching = [
                key.key
                for key in self.key_set.keys
                if key.key_type == "RSA"
                and key.public_key_use in (None, "sig")
                and (kid is None or key.key_id == kid)
            ]
            if len(matching) == 1:
                return matching[0]
            if "RS256" not in self.keys:
                raise jwt.InvalidKeyError(f"no single signing key in the key set for kid {kid!r}")
        if algorithm not in self.keys:
            raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")
        return self.keys[algorithm]


def _trusted(headers: Headers, name: str) -> str | None:
    """The one value of trusted header ``name``, decoded as UTF-8; None where absent."""
    key = name.lower().encode("latin-1")
    values = [value for header, value in headers.raw if header == key]
    if not values:
        return None
    if len(values) > 1:
        raise Unauthenticated(f"the {name} header was sent {len(values)} times; send it once")
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise Unauthenticated(f"the {name} header is not UTF-8") from None


def _valid(header: str, name: str) -> str:
    try:
        return check_name(header, name)
    except BadInput as error:
        raise Unauthenticated(f"the {header} header is not a valid name: {error.message}") from None


def _valid_names(header: str, value: str | None) -> tuple[str, ...]:
    return tuple(_valid(header, name) for name in _names(value))


def _names(value: str | None) -> tuple[str, ...]:
    """The names of a comma-separated header value, blanks dropped, each once, in order."""
    if not value:
        return ()
    return tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))


def _claim_names(value: object) -> tuple[str, ...]:
    """The names of a token claim: a list of strings, or one comma-separated string."""
    if isinstance(value, str):
        return _names(value)
    if isinstance(value, list):
        return tuple(dict.fromkeys(name for name in value if isinstance(name, str) and name))
    return ()


def _invalid(message: str) -> Unauthenticated:
    return Unauthenticated(message, challenge='Bearer error="invalid_token"')


def build_authenticator(settings: Settings) -> Authenticator:
    """The authenticator the settings describe: bearer tokens if any JWT key is set."""
    keys: dict[str, Any] = {}
    if settings.jwt_secret is not None:
        keys["HS256"] = settings.jwt_secret.get_secret_value().encode()
    if settings.jwt_public_key_file is not None:
        keys["RS256"] = load_pem_public_key(Path(settings.jwt_public_key_file).read_bytes())
    key_set = None
    if settings.jwt_jwks_file is not None:
        key_set = jwt.PyJWKSet.from_json(Path(settings.jwt_jwks_file).read_text())
    if not keys and key_set is None:
        return TrustedHeader(
            settings.user_header,
            groups_header=settings.groups_header,
            roles_header=settings.roles_header,
            required=settings.require_auth,
        )
    return BearerToken(
        keys=keys,
        key_set=key_set,
        claims=settings.jwt_claim_names,
        groups_claim=settings.jwt_groups_claim,
        roles_claim=settings.jwt_roles_claim,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        leeway_s=settings.jwt_leeway_s,
        required=settings.require_auth,
    )
