"""Settings read from the environment, with the documented defaults, in one place."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# The log's default name in its checkpoint notes (a schema-less URL, as C2SP tlog-checkpoint asks); a deployment
# names its own with CHECKPOINT_ORIGIN.
DEFAULT_CHECKPOINT_ORIGIN = "probation-ledger.example/log"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, "").strip() or default
    if raw not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Every setting the ledger reads; `from_env()` is the only constructor used in production."""

    database_url: str | None = None
    # Where the API reads views from: a streaming replica of the primary (None: the primary itself).
    read_database_url: str | None = None
    data_dir: Path = Path(".ledger")
    environment: str = "development"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    read_wait_seconds: float = 5.0
    # How many requests of one caller may wait for `min_position` at once, per API process (ADR 23).
    read_waiters_per_caller: int = 2
    jwt_secret: str | None = None
    jwt_public_key_file: Path | None = None
    jwks_file: Path | None = None
    jwt_issuer: str = "probation-ledger"
    jwt_audience: str = "probation-ledger"
    jwt_algorithms: tuple[str, ...] = field(default=("HS256", "RS256", "ES256"))
    pool_size: int = 5
    projection_batch_size: int = 500
    # `ledger serve`: one worker for every view, or one worker process per view.
    projection_workers: str = "one"
    checkpoint_key_file: Path | None = None
    # Checkpoints are signed after each batch of new events, at most this often (ADR 35): the window in which an
    # append is not yet anchored outside the database.
    checkpoint_interval_seconds: int = 60
    # The log's name in its checkpoint notes, and the name of the key that signs them (ADR 35).
    checkpoint_origin: str = DEFAULT_CHECKPOINT_ORIGIN
    personal_data_key_file: Path | None = None
    # Signs the pages' session cookies (ADR 30); generated into the data directory in development.
    session_secret: str | None = None
    # The prefix of every ocid the ledger publishes (ADR 32): the Open Contracting Partnership assigns a publisher
    # its own; the default is the documented placeholder, which marks the data as not yet registered.
    ocds_ocid_prefix: str = "ocds-xxxxxx"
    # Where outsiders reach the API: the base of the publication's package URIs and `links.next`.
    ocds_base_url: str = "http://localhost:8000"
    # Domain events out (ADR 34): the RabbitMQ the relay publishes to (None: no relay; the pull feed only).
    broker_url: str | None = None
    broker_exchange: str = "probation-ledger.events"
    event_source: str = "urn:uk:gov:justice:probation-ledger"
    relay_batch_size: int = 500

    @classmethod
    def from_env(cls) -> Settings:
        algorithms = os.environ.get("JWT_ALGORITHMS", "").strip()
        public_key = os.environ.get("JWT_PUBLIC_KEY_FILE", "").strip()
        jwks = os.environ.get("JWKS_FILE", "").strip()
        return cls(
            database_url=os.environ.get("DATABASE_URL", "").strip() or None,
            read_database_url=os.environ.get("READ_DATABASE_URL", "").strip() or None,
            data_dir=Path(os.environ.get("LEDGER_DATA_DIR", "").strip() or ".ledger"),
            environment=os.environ.get("LEDGER_ENV", "").strip() or "development",
            port=_int("PORT", 8000),
            max_body_bytes=_int("MAX_BODY_BYTES", 1_048_576),
            read_wait_seconds=_float("READ_WAIT_SECONDS", 5.0),
            read_waiters_per_caller=max(1, _int("READ_WAITERS_PER_CALLER", 2)),
            jwt_secret=os.environ.get("JWT_SECRET", "").strip() or None,
            jwt_public_key_file=Path(public_key) if public_key else None,
            jwks_file=Path(jwks) if jwks else None,
            jwt_issuer=os.environ.get("JWT_ISSUER", "").strip() or "probation-ledger",
            jwt_audience=os.environ.get("JWT_AUDIENCE", "").strip() or "probation-ledger",
            jwt_algorithms=tuple(a.strip() for a in algorithms.split(",") if a.strip()) or ("HS256", "RS256", "ES256"),
            pool_size=_int("DB_POOL_SIZE", 5),
            projection_batch_size=_int("PROJECTION_BATCH_SIZE", 500),
            projection_workers=_choice("PROJECTION_WORKERS", "one", ("one", "per-view")),
            checkpoint_interval_seconds=_int("CHECKPOINT_INTERVAL_SECONDS", 60),
            checkpoint_origin=os.environ.get("CHECKPOINT_ORIGIN", "").strip() or DEFAULT_CHECKPOINT_ORIGIN,
            personal_data_key_file=Path(pk) if (pk := os.environ.get("PERSONAL_DATA_KEY_FILE", "").strip()) else None,
            checkpoint_key_file=Path(key) if (key := os.environ.get("CHECKPOINT_KEY_FILE", "").strip()) else None,
            session_secret=os.environ.get("SESSION_SECRET", "").strip() or None,
            ocds_ocid_prefix=os.environ.get("OCDS_OCID_PREFIX", "").strip() or "ocds-xxxxxx",
            ocds_base_url=(os.environ.get("OCDS_BASE_URL", "").strip() or "http://localhost:8000").rstrip("/"),
            broker_url=os.environ.get("BROKER_URL", "").strip() or None,
            broker_exchange=os.environ.get("BROKER_EXCHANGE", "").strip() or "probation-ledger.events",
            event_source=os.environ.get("EVENT_SOURCE", "").strip() or "urn:uk:gov:justice:probation-ledger",
            relay_batch_size=max(1, _int("RELAY_BATCH_SIZE", 500)),
        )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def checkpoint_key_path(self) -> Path:
        """The Ed25519 key that signs checkpoints: CHECKPOINT_KEY_FILE, or one kept in the data directory."""
        return self.checkpoint_key_file or self.data_dir / "checkpoint-key.pem"

    def development_secret(self) -> str:
        """Return the HS256 secret: JWT_SECRET, or one generated once into the data directory.

        Production never falls back to a generated secret: it must be given keys.
        """
        if self.jwt_secret:
            return self.jwt_secret
        if self.is_production:
            raise RuntimeError("JWT_SECRET is not set and LEDGER_ENV=production forbids a generated one")
        return _secret_file(self.data_dir / "dev-jwt-secret", lambda: secrets.token_urlsafe(48)).strip()

    def session_key(self) -> str:
        """The key that signs page sessions: SESSION_SECRET, or one generated once into the data directory."""
        if self.session_secret:
            return self.session_secret
        if self.is_production:
            raise RuntimeError("LEDGER_ENV=production needs SESSION_SECRET for the pages' sessions")
        return _secret_file(self.data_dir / "dev-session-secret", lambda: secrets.token_urlsafe(48)).strip()

    def personal_data_master_key(self) -> bytes:
        """The 32-byte master key that wraps every person's data key: PERSONAL_DATA_KEY_FILE (base64), or
        one generated once into the data directory in development. Losing it loses all personal data."""
        path = self.personal_data_key_file or self.data_dir / "personal-data-key"
        if not path.exists() and self.is_production:
            raise RuntimeError("PERSONAL_DATA_KEY_FILE is missing and LEDGER_ENV=production forbids a generated one")
        key = base64.b64decode(_secret_file(path, lambda: base64.b64encode(secrets.token_bytes(32)).decode()))
        if len(key) != 32:
            raise ValueError(f"{path} must hold 32 bytes, base64-encoded")
        return key


def _secret_file(path: Path, generate: Callable[[], str]) -> str:
    """A secret kept in a file (mode 0600), generated the first time it is needed."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(generate())
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic and never overwrites: concurrent first starts agree on one secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text()
