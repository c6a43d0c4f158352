"""Identity: who the principal is (trusted header or verified JWT), and that nobody acts as someone else."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import FacadeFactory
from .harness import Facade, Upstream

SECRET = "a-test-secret-of-at-least-32-bytes!"
CLAIM = "mutation($input: ClaimTaskInput!) { claimTask(input: $input) { task { assignee status } errors { code } } }"
COMPLETE = "mutation($input: CompleteTaskInput!) { completeTask(input: $input) { task { id } errors { code } } }"


def _token(
    key: Any, algorithm: str = "HS256", headers: dict[str, Any] | None = None, **claims: Any
) -> str:
    claims.setdefault("exp", int(time.time()) + 300)
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _task(upstream: Upstream) -> str:
    instance_id = upstream.start("BookingRoom")
    task_id: str = upstream.open_tasks(instance_id)[0]["id"]
    return task_id


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def strict(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    """A facade whose principal may act only as itself."""
    return facade_factory(upstream.base_url, allow_user_override=False)


@pytest.fixture
def hs256(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    """A facade whose principal comes from an HS256 bearer token."""
    return facade_factory(upstream.base_url, jwt_secret=SECRET, jwt_audience="oneweb")


async def _claim_as(facade: Facade, task_id: str, **kwargs: Any) -> dict[str, Any]:
    """claimTask without a ``user``: the principal acts; the payload."""
    reply = await facade.execute(CLAIM, {"input": {"taskId": task_id}}, **kwargs)
    assert "errors" not in reply, reply
    payload: dict[str, Any] = reply["data"]["claimTask"]
    return payload


def _unauthenticated(reply: httpx.Response) -> None:
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    [error] = reply.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


# -- override off: A cannot act as B ---------------------------------------------------


async def test_listing_another_users_tasks_is_forbidden_when_override_is_off(
    strict: Facade, upstream: Upstream
) -> None:
    reply = await strict.execute('{ tasks(user: "bob") { totalCount } }', user="alice")

    assert reply["data"] == {"tasks": None}
    assert [error["extensions"]["code"] for error in reply["errors"]] == ["FORBIDDEN"]
    assert upstream.paths() == []


async def test_claiming_as_another_user_is_forbidden_when_override_is_off(
    strict: Facade, upstream: Upstream
) -> None:
    task_id = _task(upstream)

    reply = await strict.execute(CLAIM, {"input": {"taskId": task_id, "user": "bob"}}, user="alice")

    assert reply["data"]["claimTask"] == {"task": None, "errors": [{"code": "FORBIDDEN"}]}
    assert upstream.paths() == []


async def test_completing_as_another_user_is_forbidden_when_override_is_off(
    strict: Facade, upstream: Upstream
) -> None:
    task_id = _task(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "bob"})

    reply = await strict.execute(
        COMPLETE, {"input": {"taskId": task_id, "user": "bob"}}, user="alice"
    )

    assert reply["data"]["completeTask"] == {"task": None, "errors": [{"code": "FORBIDDEN"}]}
    assert upstream.paths() == []


async def test_a_user_lists_their_own_tasks_when_override_is_off(
    strict: Facade, upstream: Upstream
) -> None:
    reply = await strict.execute('{ tasks(user: "alice") { totalCount } }', user="alice")

    assert reply == {"data": {"tasks": {"totalCount": 0}}}
    assert upstream.paths() == ["/tasks"]


async def test_a_user_claims_and_completes_as_themselves_when_override_is_off(
    strict: Facade, upstream: Upstream
) -> None:
    task_id = _task(upstream)

    claimed = await strict.execute(
        CLAIM, {"input": {"taskId": task_id, "user": "alice"}}, user="alice"
    )
    completed = await strict.execute(
        COMPLETE,
        {"input": {"taskId": task_id, "variables": {"roomBooked": False}}},
        user="alice",
    )

    assert claimed["data"]["claimTask"] == {
        "task": {"assignee": "alice", "status": "CLAIMED"},
        "errors": [],
    }
    assert completed["data"]["completeTask"]["errors"] == []


@pytest.mark.parametrize(
    ("listing", "headers"),
    [
        ('tasks(group: "Clerk")', {"X-Remote-Groups": "Employee, Clerk"}),
        ('tasks(role: "approver")', {"X-Remote-Roles": "approver"}),
    ],
)
async def test_a_user_lists_their_groups_and_roles_when_override_is_off(
    strict: Facade, upstream: Upstream, listing: str, headers: dict[str, str]
) -> None:
    reply = await strict.execute(f"{{ {listing} {{ totalCount }} }}", user="alice", headers=headers)

    assert reply == {"data": {"tasks": {"totalCount": 0}}}
    assert upstream.paths() == ["/tasks"]


@pytest.mark.parametrize(
    ("listing", "headers"),
    [
        ('tasks(group: "Clerk")', {"X-Remote-Groups": "Employee"}),
        ('tasks(group: "Clerk")', {"X-Remote-Roles": "Clerk"}),
        ('tasks(role: "approver")', {"X-Remote-Groups": "approver"}),
        ('tasks(group: "Clerk")', {}),
    ],
)
async def test_listing_a_group_or_role_the_principal_lacks_is_forbidden_when_override_is_off(
    strict: Facade, upstream: Upstream, listing: str, headers: dict[str, str]
) -> None:
    reply = await strict.execute(f"{{ {listing} {{ totalCount }} }}", user="alice", headers=headers)

    assert reply["data"] == {"tasks": None}
    assert [error["extensions"]["code"] for error in reply["errors"]] == ["FORBIDDEN"]
    assert upstream.paths() == []


async def test_an_anonymous_request_lists_no_group_when_override_is_off(
    strict: Facade, upstream: Upstream
) -> None:
    reply = await strict.execute('{ tasks(group: "Clerk") { totalCount } }')

    assert [error["extensions"]["code"] for error in reply["errors"]] == ["FORBIDDEN"]
    assert upstream.paths() == []


async def test_override_on_lets_a_user_act_as_another(facade: Facade, upstream: Upstream) -> None:
    task_id = _task(upstream)

    reply = await facade.execute(CLAIM, {"input": {"taskId": task_id, "user": "bob"}}, user="alice")

    assert reply["data"]["claimTask"]["task"] == {"assignee": "bob", "status": "CLAIMED"}


# -- JWT: a verified token names the principal -----------------------------------------


async def test_a_valid_hs256_token_names_the_principal_by_preferred_username(
    hs256: Facade, upstream: Upstream
) -> None:
    token = _token(SECRET, preferred_username="alice", sub="id-1", aud="oneweb")

    payload = await _claim_as(hs256, _task(upstream), headers=_bearer(token))

    assert payload["task"] == {"assignee": "alice", "status": "CLAIMED"}


async def test_the_principal_falls_back_to_sub(hs256: Facade, upstream: Upstream) -> None:
    token = _token(SECRET, sub="alice", aud="oneweb")

    payload = await _claim_as(hs256, _task(upstream), headers=_bearer(token))

    assert payload["task"] == {"assignee": "alice", "status": "CLAIMED"}


async def test_the_principal_claim_is_configurable(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, jwt_secret=SECRET, jwt_claim="email")
    token = _token(SECRET, email="alice@example.com", preferred_username="ignored")

    payload = await _claim_as(facade, _task(upstream), headers=_bearer(token))

    assert payload["task"] == {"assignee": "alice@example.com", "status": "CLAIMED"}


@pytest.mark.parametrize(
    ("claims", "settings"),
    [
        ({"groups": ["Employee", "Clerk"]}, {}),
        ({"groups": "Employee,Clerk"}, {}),
        ({"teams": ["Clerk"]}, {"jwt_groups_claim": "teams"}),
    ],
)
async def test_a_tokens_groups_claim_lets_the_principal_list_its_group(
    facade_factory: FacadeFactory,
    upstream: Upstream,
    claims: dict[str, Any],
    settings: dict[str, Any],
) -> None:
    facade = facade_factory(
        upstream.base_url, jwt_secret=SECRET, allow_user_override=False, **settings
    )
    token = _token(SECRET, sub="alice", **claims)

    reply = await facade.execute(
        '{ tasks(group: "Clerk") { totalCount } }',
        # With a token, the trusted headers are ignored: they cannot add a group.
        headers={**_bearer(token), "X-Remote-Groups": "Manager"},
    )
    refused = await facade.execute(
        '{ tasks(group: "Manager") { totalCount } }',
        headers={**_bearer(token), "X-Remote-Groups": "Manager"},
    )

    assert reply == {"data": {"tasks": {"totalCount": 0}}}
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["FORBIDDEN"]


async def test_a_valid_rs256_token_verified_by_a_pem_public_key_names_the_principal(
    facade_factory: FacadeFactory, upstream: Upstream, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    pem = tmp_path / "public.pem"
    pem.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    facade = facade_factory(upstream.base_url, jwt_public_key_file=pem)
    token = _token(rsa_key, "RS256", preferred_username="alice")

    payload = await _claim_as(facade, _task(upstream), headers=_bearer(token))

    assert payload["task"] == {"assignee": "alice", "status": "CLAIMED"}


async def test_a_valid_rs256_token_verified_by_a_jwks_key_names_the_principal(
    facade_factory: FacadeFactory, upstream: Upstream, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(
        json.dumps(
            {
                "keys": [
                    {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid}
                    for kid, key in (("old", other), ("current", rsa_key))
                ]
            }
        )
    )
    facade = facade_factory(upstream.base_url, jwt_jwks_file=jwks)
    token = _token(rsa_key, "RS256", headers={"kid": "current"}, preferred_username="alice")

    payload = await _claim_as(facade, _task(upstream), headers=_bearer(token))

    assert payload["task"] == {"assignee": "alice", "status": "CLAIMED"}


async def test_the_authorization_header_is_still_forwarded_upstream(
    hs256: Facade, upstream: Upstream
) -> None:
    token = _token(SECRET, preferred_username="alice", aud="oneweb")

    await _claim_as(hs256, _task(upstream), headers=_bearer(token))

    assert upstream.recorder.calls[0].headers["authorization"] == f"Bearer {token}"


# -- JWT: a bad token is 401 UNAUTHENTICATED ---------------------------------------------


async def test_a_token_with_a_wrong_signature_is_unauthenticated(
    hs256: Facade, upstream: Upstream
) -> None:
    token = _token("another-secret-of-at-least-32-bytes", preferred_username="alice", aud="oneweb")

    reply = await hs256.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)
    assert upstream.paths() == []


async def test_an_expired_token_is_unauthenticated(hs256: Facade, upstream: Upstream) -> None:
    token = _token(SECRET, preferred_username="alice", aud="oneweb", exp=int(time.time()) - 3600)

    reply = await hs256.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)
    assert "expired" in reply.json()["errors"][0]["message"]
    assert upstream.paths() == []


async def test_a_token_for_another_audience_is_unauthenticated(
    hs256: Facade, upstream: Upstream
) -> None:
    token = _token(SECRET, preferred_username="alice", aud="another-app")

    reply = await hs256.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)


async def test_a_token_from_another_issuer_is_unauthenticated(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, jwt_secret=SECRET, jwt_issuer="https://idp")
    token = _token(SECRET, preferred_username="alice", iss="https://elsewhere")

    reply = await facade.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)


async def test_a_token_without_expiry_is_unauthenticated(hs256: Facade, upstream: Upstream) -> None:
    token = jwt.encode({"preferred_username": "alice", "aud": "oneweb"}, SECRET, "HS256")

    reply = await hs256.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)


async def test_an_unsigned_token_is_unauthenticated(hs256: Facade, upstream: Upstream) -> None:
    token = _token(None, "none", preferred_username="alice", aud="oneweb")

    reply = await hs256.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)


async def test_an_hs256_token_is_unauthenticated_where_only_an_rsa_key_is_configured(
    facade_factory: FacadeFactory, upstream: Upstream, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    pem = tmp_path / "public.pem"
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem.write_bytes(public_pem)
    facade = facade_factory(upstream.base_url, jwt_public_key_file=pem)
    token = _token(SECRET, preferred_username="alice")

    reply = await facade.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)


async def test_a_malformed_token_is_unauthenticated(hs256: Facade, upstream: Upstream) -> None:
    reply = await hs256.post(
        '{ tasks(user: "alice") { totalCount } }', headers=_bearer("not.a.jwt")
    )

    _unauthenticated(reply)


async def test_a_token_naming_no_user_is_unauthenticated(hs256: Facade, upstream: Upstream) -> None:
    token = _token(SECRET, aud="oneweb", scope="read")

    reply = await hs256.post('{ tasks(user: "alice") { totalCount } }', headers=_bearer(token))

    _unauthenticated(reply)


# -- no credentials ---------------------------------------------------------------------


async def test_the_trusted_header_is_ignored_when_jwt_is_configured(
    hs256: Facade, upstream: Upstream
) -> None:
    reply = await hs256.execute(CLAIM, {"input": {"taskId": _task(upstream)}}, user="alice")

    assert reply["data"]["claimTask"]["errors"] == [{"code": "BAD_USER_INPUT"}]
    assert upstream.paths() == []


async def test_no_token_is_anonymous_unless_auth_is_required(
    hs256: Facade, upstream: Upstream
) -> None:
    reply = await hs256.execute('{ tasks(group: "Clerk") { totalCount } }')

    assert reply == {"data": {"tasks": {"totalCount": 0}}}


async def test_no_token_is_unauthenticated_when_auth_is_required(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, jwt_secret=SECRET, require_auth=True)

    reply = await facade.post('{ tasks(group: "Clerk") { totalCount } }')

    _unauthenticated(reply)
    assert upstream.paths() == []


async def test_no_trusted_header_is_unauthenticated_when_auth_is_required(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, require_auth=True)

    reply = await facade.post('{ tasks(group: "Clerk") { totalCount } }')

    assert reply.status_code == 401
    assert reply.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert upstream.paths() == []
