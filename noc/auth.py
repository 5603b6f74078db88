"""Who is calling: users' passwords and API tokens.

Passwords are people's choices, so they are hashed with Argon2id (``argon2-cffi``): slow and memory-hard on
purpose, salted per hash, with its parameters in the hash so they can be raised later (``needs_rehash``).

API tokens are ours: 32 random bytes from ``secrets``, shown once when issued. At rest only their SHA-256 is
kept. A fast hash is enough here because a token has 256 bits of entropy (nothing to guess, unlike a password),
and being unsalted and deterministic it is looked up by an indexed equality on every request, where Argon2 would
cost tens of milliseconds per call and need a scan. A leaked database gives no usable token.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.audit import REFUSED, Action, Origin, os_user, record
from noc.errors import InputError
from noc.timeutil import utcnow

TOKEN_PREFIX = "noc_"  # noqa: S105 - a marker, not a secret: lets a scanner spot leaked tokens
MIN_PASSWORD_LENGTH = 10
LAST_USED_RESOLUTION = timedelta(minutes=1)
_hasher = PasswordHasher()  # the library's defaults follow RFC 9106's recommendations

Sessions = async_sessionmaker[AsyncSession]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts as."""

    username: str
    role: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown about a stored token: never the token."""

    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when there is no user to check: made once, on the first such sign-in."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def bearer_matches(authorization: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries this bearer token; compared in constant time."""
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _user(session: AsyncSession, username: str) -> m.User:
    user = await session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        raise InputError(f"no user named {username!r}")
    return user


def _local(origin: Origin | None) -> Origin:
    """Who acts when the caller does not say: this process's OS user, on the machine itself."""
    return origin or Origin("system", "", "system", os_user())


async def set_password(sessions: Sessions, username: str, password: str, *, origin: Origin | None = None) -> None:
    digest = hash_password(password)
    async with sessions() as session:
        user = await _user(session, username)
        user.password_hash = digest
        # A new password ends every browser session of the user (a stolen cookie dies with the old password) and
        # clears every sign-in delay on the name.
        await session.execute(delete(m.WebSession).where(m.WebSession.user_id == user.id))
        await session.execute(delete(m.LoginAttempt).where(m.LoginAttempt.username == username))
        record(session, _local(origin), Action.PASSWORD_SET, username)
        await session.commit()


async def set_active(sessions: Sessions, username: str, active: bool, *, origin: Origin | None = None) -> bool:
    """Activate or deactivate a user; False when they already were. Deactivating ends their browser sessions
    (their tokens stop working with them: a token's user must be active)."""
    async with sessions() as session:
        user = await _user(session, username)
        if user.active == active:
            return False
        user.active = active
        if not active:
            await session.execute(delete(m.WebSession).where(m.WebSession.user_id == user.id))
        record(session, _local(origin), Action.USER_ACTIVATE if active else Action.USER_DEACTIVATE, username)
        await session.commit()
        return True


async def refuse(sessions: Sessions, origin: Origin, action: Action, subject: str, why: str) -> None:
    """An attempt the caller may not make, recorded (committed on its own: the act itself does not happen)."""
    async with sessions() as session:
        record(session, origin, action, subject, REFUSED, reason=why)
        await session.commit()


async def check_password(sessions: Sessions, username: str, password: str) -> Principal | None:
    """The active user with this password, else None (for the login page)."""
    async with sessions() as session:
        user = await session.scalar(select(m.User).where(m.User.username == username, m.User.active.is_(True)))
        if user is None or not user.password_hash:
            # The same work as a real check, so the time taken does not tell which user names exist.
            await asyncio.to_thread(lambda: verify_password(_dummy_hash(), password))
            return None
        # Argon2 is slow on purpose (tens of ms): off the event loop, so a sign-in does not stall other requests.
        if not await asyncio.to_thread(verify_password, user.password_hash, password):
            return None
        if _hasher.check_needs_rehash(user.password_hash or ""):
            user.password_hash = await asyncio.to_thread(_hasher.hash, password)
            await session.commit()
        return Principal(user.username, user.role)


async def issue_token(sessions: Sessions, username: str, name: str = "default", *, origin: Origin | None = None) -> str:
    """A new token for the user, returned once; only its digest is stored."""
    if not name.strip() or len(name) > 100:
        raise InputError("token name: 1 to 100 characters")
    token = new_token()
    async with sessions() as session:
        user = await _user(session, username)
        prefix = token[: len(TOKEN_PREFIX) + 4]
        session.add(m.ApiToken(user_id=user.id, name=name.strip(), token_sha256=token_digest(token), prefix=prefix))
        record(session, _local(origin), Action.TOKEN_ISSUE, username, token=name.strip(), prefix=prefix)
        try:
            await session.commit()
        except IntegrityError as exc:
            raise InputError(f"{username} already has a token named {name.strip()!r}: revoke it first") from exc
    return token


async def list_tokens(sessions: Sessions, username: str) -> list[TokenInfo]:
    async with sessions() as session:
        user = await _user(session, username)
        rows = await session.scalars(select(m.ApiToken).where(m.ApiToken.user_id == user.id).order_by(m.ApiToken.name))
        return [TokenInfo(t.name, t.prefix, t.created_at, t.last_used_at) for t in rows]


async def revoke_tokens(
    sessions: Sessions, username: str, name: str | None = None, *, origin: Origin | None = None
) -> int:
    """Delete the user's token of that name, or all of them; how many went."""
    async with sessions() as session:
        user = await _user(session, username)
        query = delete(m.ApiToken).where(m.ApiToken.user_id == user.id)
        if name is not None:
            query = query.where(m.ApiToken.name == name)
        count = int((await session.execute(query)).rowcount or 0)  # type: ignore[attr-defined]
        record(session, _local(origin), Action.TOKEN_REVOKE, username, token=name or "(all)", revoked=count)
        await session.commit()
        return count


async def principal_for_token(sessions: Sessions, token: str) -> Principal | None:
    """The active user the token belongs to, else None. Marks the token used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    async with sessions() as session:
        row = (
            await session.execute(
                select(m.ApiToken, m.User)
                .join(m.User, m.User.id == m.ApiToken.user_id)
                .where(m.ApiToken.token_sha256 == token_digest(token), m.User.active.is_(True))
            )
        ).first()
        if row is None:
            return None
        api_token, user = row
        principal = Principal(user.username, user.role)  # read now: a rollback below would expire the rows
        now = utcnow()
        # Recorded to the minute: enough to tell a live token from a forgotten one, without a write per request.
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            api_token.last_used_at = now
            try:
                await session.commit()
            except SQLAlchemyError:
                # Bookkeeping only (e.g. SQLite busy under concurrent writers): the caller is still who they are.
                log.warning("could not record the use of a token of %s", principal.username)
                await session.rollback()
        return principal


class TokenCache:
    """Recently verified tokens, by digest, for ``ttl_s`` seconds: a busy client's every call does not go to the
    database. A revoked token or a deactivated user is refused by every process within ``ttl_s``. Bounded: the
    oldest entry goes when ``max_entries`` is reached."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, token: str, now: float) -> Principal | None:
        found = self._entries.get(token_digest(token))
        if found is None or now - found[1] >= self.ttl_s:
            return None
        return found[0]

    def put(self, token: str, principal: Principal, now: float) -> None:
        if self.ttl_s <= 0:
            return
        digest = token_digest(token)
        if digest not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[digest] = (principal, now)


# --- the sign-in throttle --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throttle:
    """The sign-in rules (``web.login_*`` settings): per client address ``per_minute`` attempts; per client address
    and user name, ``free_failures`` failures without delay, then a delay doubling from ``base_s`` up to ``max_s``
    before that address may try that name again; attempts older than ``memory_s`` are forgotten."""

    per_minute: int
    free_failures: int
    base_s: float
    max_s: float

    @property
    def memory(self) -> timedelta:
        return timedelta(seconds=max(self.max_s * 4, 3600.0))

    def delay_s(self, failures: int) -> float:
        """How long after its last failure an address waits, having failed ``failures`` times for one name."""
        if failures < self.free_failures:
            return 0.0
        return min(self.base_s * 2.0 ** min(failures - self.free_failures, 60), self.max_s)


@dataclass(frozen=True, slots=True)
class Verdict:
    """May this attempt go on to the password check; if not, why and for how long (seconds)."""

    allowed: bool
    reason: str = ""
    retry_after_s: float = 0.0


async def attempt_sign_in(sessions: Sessions, username: str, client: str, rules: Throttle) -> Verdict:
    """Record an attempt from ``client`` for ``username`` and say whether it may go on to the password check:
    refused without any hash when the address sent more than ``per_minute`` attempts in the last minute, or
    while the address waits out its delay for this name. Other addresses are never delayed by this one (an
    anonymous client cannot lock a user out), and the attempt is written before the count, so guesses sent at
    once are all counted; every process shares the count."""
    now = utcnow()
    a = m.LoginAttempt
    async with sessions() as session:
        await session.execute(delete(a).where(a.at < now - rules.memory))
        attempt = a(username=username, client=client, at=now)
        session.add(attempt)
        await session.commit()
        # Counted after the commit, by id: of attempts sent at once, each sees those committed before it.
        recent = await session.scalar(
            select(func.count()).where(a.client == client, a.at >= now - timedelta(minutes=1))
        )
        if int(recent or 0) > rules.per_minute:
            return Verdict(False, "too many sign-in attempts from this address", 60.0)
        failures, last = (
            await session.execute(
                select(func.count(), func.max(a.at)).where(
                    a.username == username, a.client == client, a.id < attempt.id
                )
            )
        ).one()
        wait = rules.delay_s(int(failures or 0))
        if last is not None and wait > 0 and now < last + timedelta(seconds=wait):
            if failures == rules.free_failures:  # the first delay on this name from this address: said once
                origin = Origin("anonymous", "", "web", client=client)
                record(session, origin, Action.SIGNIN_LOCK, username, failures=failures, delay_s=wait)
                await session.commit()
            return Verdict(False, "too many wrong passwords", (last + timedelta(seconds=wait) - now).total_seconds())
    return Verdict(True)


async def signed_in(sessions: Sessions, username: str, client: str) -> None:
    """A success: this address's count for the name starts again."""
    async with sessions() as session:
        await session.execute(
            delete(m.LoginAttempt).where(m.LoginAttempt.username == username, m.LoginAttempt.client == client)
        )
        await session.commit()


@dataclass(frozen=True, slots=True)
class LockState:
    username: str
    clients: int  # addresses with recorded failures for the name
    attempts: int


async def lock_states(sessions: Sessions) -> dict[str, LockState]:
    """Per user name, the failed attempts on record (the admin's users page)."""
    a = m.LoginAttempt
    async with sessions() as session:
        rows = await session.execute(
            select(a.username, func.count(func.distinct(a.client)), func.count()).group_by(a.username)
        )
        return {name: LockState(name, int(clients), int(count)) for name, clients, count in rows.all()}


async def unlock(sessions: Sessions, username: str, *, origin: Origin | None = None) -> int:
    """Forget every failed sign-in on the name, from every address; how many attempts were forgotten."""
    async with sessions() as session:
        await _user(session, username)
        result = await session.execute(delete(m.LoginAttempt).where(m.LoginAttempt.username == username))
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        record(session, _local(origin), Action.SIGNIN_UNLOCK, username, attempts=count)
        await session.commit()
        return count


# --- browser sessions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A signed-in browser: who, and the secret its forms must carry."""

    user: Principal
    csrf_token: str


async def open_session(sessions: Sessions, user: Principal, lifetime: timedelta) -> tuple[str, BrowserSession]:
    """A new session for a user who just proved their password: the cookie value (returned once) and the session.
    Expired sessions of anyone are swept here, so the table never grows without bound."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    async with sessions() as session:
        user_id = await session.scalar(select(m.User.id).where(m.User.username == user.username))
        if user_id is None:
            raise InputError(f"no user named {user.username!r}")
        await session.execute(delete(m.WebSession).where(m.WebSession.expires_at <= now))
        session.add(
            m.WebSession(
                user_id=user_id,
                token_sha256=token_digest(token),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        await session.commit()
    return token, BrowserSession(user, csrf)


async def browser_session(sessions: Sessions, token: str) -> BrowserSession | None:
    """The live session behind a cookie value, else None (unknown, expired, or its user made inactive)."""
    if not token or len(token) > 100:
        return None
    async with sessions() as session:
        row = (
            await session.execute(
                select(m.WebSession.csrf_token, m.User.username, m.User.role)
                .join(m.User, m.User.id == m.WebSession.user_id)
                .where(
                    m.WebSession.token_sha256 == token_digest(token),
                    m.WebSession.expires_at > utcnow(),
                    m.User.active.is_(True),
                )
            )
        ).first()
    if row is None:
        return None
    csrf, username, role = row
    return BrowserSession(Principal(username, role), csrf)


async def close_session(sessions: Sessions, token: str) -> None:
    async with sessions() as session:
        await session.execute(delete(m.WebSession).where(m.WebSession.token_sha256 == token_digest(token)))
        await session.commit()
