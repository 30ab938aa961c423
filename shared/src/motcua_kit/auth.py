"""Staff authentication: bearer JWTs carrying a role and a scope (centre or agency code).

Keys come from a JWKS: the OIDC provider's URL in production, a local file in the embedded
default (written by :func:`create_dev_keys`, used by ``motcua token``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from motcua_kit.settings import AuthSettings

ALGORITHMS = ["RS256", "ES256"]
JWKS_REFRESH_MIN_SECONDS = 30.0


class Role(StrEnum):
    COUNTER_OFFICER = "counter_officer"
    AGENCY_OFFICER = "agency_officer"
    AGENCY_LEADER = "agency_leader"
    CENTRE_ADMIN = "centre_admin"
    POSTAL_PARTNER = "postal_partner"
    AUDITOR = "auditor"


class Principal(BaseModel):
    subject: str
    role: Role
    scope: str
    name: str | None = None


class InvalidToken(Exception):
    pass


class JwksKeys:
    """The verification keys, cached; re-read (at most every 30 s) when an unknown key id shows up."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at = 0.0

    async def _load(self) -> None:
        if self.settings.jwks_file is not None:
            data = json.loads(await asyncio.to_thread(Path(self.settings.jwks_file).read_text))
        else:
            assert self.settings.jwks_url
            async with httpx.AsyncClient(timeout=self.settings.jwks_timeout_seconds) as client:
                response = await client.get(self.settings.jwks_url)
                response.raise_for_status()
                data = response.json()
        keys = {}
        for jwk in data.get("keys", []):
            if jwk.get("use", "sig") == "sig" and jwk.get("kid"):
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
        self._keys = keys
        self._loaded_at = time.monotonic()

    async def get(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._loaded_at > JWKS_REFRESH_MIN_SECONDS
        if not self._loaded_at or (kid not in self._keys and stale):
            try:
                await self._load()
            except (OSError, ValueError, httpx.HTTPError) as exc:
                raise InvalidToken(f"token keys unavailable: {exc}") from exc
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken("token signed with an unknown key") from None


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.keys = JwksKeys(settings)

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            key = await self.keys.get(str(header.get("kid", "")))
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["exp", "sub"]},
            )
            return Principal.model_validate(
                {
                    "subject": claims["sub"],
                    "role": claims.get("role"),
                    "scope": claims.get("scope"),
                    "name": claims.get("name"),
                }
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        except ValidationError as exc:
            raise InvalidToken("token lacks a valid role or scope claim") from exc


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a staff bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}
        ) from exc


def require_roles(*roles: Role) -> Any:
    """A dependency that lets through only the given roles (403 otherwise)."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {principal.role.value} may not do this; allowed: {allowed}"
            )
        return principal

    return Depends(dependency)


# --- local keys for the embedded default and tests -------------------------------------------

PRIVATE_KEY_FILE = "jwt-private.pem"
JWKS_FILE = "jwks.json"
DEV_ISSUER = "motcua-local"


def create_dev_keys(directory: Path) -> Path:
    """Creates (once) a signing key and its JWKS in ``directory``; returns the JWKS path."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = directory / PRIVATE_KEY_FILE, directory / JWKS_FILE
    if private_path.exists() and jwks_path.exists():
        return jwks_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private_path.chmod(0o600)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": uuid.uuid4().hex[:16], "use": "sig", "alg": "RS256"})
    jwks_path.write_text(json.dumps({"keys": [jwk]}, indent=2))
    return jwks_path


def mint_token(
    directory: Path,
    *,
    role: Role,
    scope: str,
    subject: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 12 * 3600,
    issuer: str = DEV_ISSUER,
    audience: str = "motcua",
) -> str:
    """Signs a staff token with the local key (embedded default and tests only)."""
    key = (directory / PRIVATE_KEY_FILE).read_bytes()
    kid = json.loads((directory / JWKS_FILE).read_text())["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "sub": subject or f"{role.value}@{scope}",
        "role": role.value,
        "scope": scope,
        "name": name,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
