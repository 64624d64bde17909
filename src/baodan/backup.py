"""Backups: `baodan backup` writes one archive file, `baodan restore` puts it back into an empty database.

An archive is a zip file holding:

- `manifest.json`: format and version, dialect, when it was taken (UTC), the Alembic revision of the schema
  and, for every other member, its size and sha256. Restore refuses an archive whose members disagree.
- SQLite: `baodan.db` and, when the inbox file exists, `baodan-inbox.db`: snapshots taken with SQLite's online
  backup API (`sqlite3.Connection.backup`, in one step, so each is one consistent read transaction; safe while
  BaoDan runs), turned into plain rollback-journal files that stand alone.
- PostgreSQL: `baodan.dump`, from `pg_dump --format=custom` (one consistent snapshot of every table, the inbox's
  included) of the schema named by the URL's search_path option, or of the whole database when it names none.

Order of the two SQLite snapshots: the main file first, then the inbox. The worker's progress (`intake_cursor`,
in the main file) names the last inbox event whose effects are committed; events are only ever appended to the
inbox, with growing ids, before the worker can see them. So when the main file is copied first, every event its
cursor covers is already in the inbox and is in the later inbox copy too, together with the events acknowledged
between the two copies, which sit past the cursor: after a restore the worker processes them. Nothing
acknowledged before the inbox copy is lost and nothing is applied twice. The other order could restore a cursor
past the inbox's last event: events acknowledged between the copies would have orders but no inbox row (so no
duplicate detection), and as new inbox ids would restart after the copied inbox's last one, the worker would
skip new events up to the old cursor as already processed. Events acknowledged after the inbox copy are not in
the backup: that is the moment the backup stands for.

Restore checks the archive (manifest, dialect, checksums, a schema revision this BaoDan knows) before writing
anything and refuses a target that already holds rows unless `force`. SQLite: members are written to temporary
files beside the target, fsynced and renamed into place (inbox first, then the main file, so a main file from
the archive means the restore finished); stop BaoDan first. PostgreSQL: `pg_restore --single-transaction`
(with --clean --if-exists, so replacing a database is all or nothing). The restored database is then migrated
to the current schema if the archive is older.

The PII keys (`<data dir>/keys.json` or BAODAN_PII_* settings) are not in the archive, on purpose: keep them
apart from it, a restored database without them cannot reveal the sealed receivers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
import zlib
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from baodan import __version__, migrate
from baodan.core import clock
from baodan.core.db import Database
from baodan.core.errors import BaoDanError

FORMAT = "baodan-backup"
VERSION = 1
MANIFEST = "manifest.json"
MAIN, INBOX, DUMP = "baodan.db", "baodan-inbox.db", "baodan.dump"
_MEMBERS = {"sqlite": ({MAIN}, {MAIN, INBOX}), "postgresql": ({DUMP}, {DUMP})}  # dialect: (required, allowed)
_CHUNK = 1 << 20
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S+)")
# libpq settings a URL may carry in its query, passed to pg_dump/pg_restore as environment variables.
_PG_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
           "connect_timeout": "PGCONNECT_TIMEOUT"}


class BackupError(BaoDanError):
    code = "backup.error"


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    size: int
    manifest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Restored:
    manifest: dict[str, Any]
    target: str  # the SQLite file or the PostgreSQL URL (without password)
    revision: str  # the schema revision after the restore
    migrated_from: str | None  # the archive's revision when migrations had to run


def default_name(now: datetime | None = None) -> str:
    return f"baodan-{now or clock.utcnow():%Y%m%d-%H%M%S}.zip"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


# --------------------------------------------------------------------------------------------------- backup


def backup(db: Database, destination: str | Path) -> Written:
    """Write an archive of `db` to `destination` (which must not exist), through a temporary file."""
    destination = Path(destination)
    if destination.exists():
        raise BackupError(f"{destination} already exists: choose another path", code="backup.destination_exists")
    destination.parent.mkdir(parents=True, exist_ok=True)
    created_at = clock.utcnow().isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".baodan-backup-") as tmp:
        work = Path(tmp)
        if db.is_sqlite:
            members, revision, extra = _snapshot_sqlite(db, work)
        else:
            members, revision, extra = _dump_postgres(db, work)
        manifest = {"format": FORMAT, "version": VERSION, "dialect": db.dialect, "created_at": created_at,
                    "revision": revision, "baodan_version": __version__, **extra,
                    "members": {name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
                                for name, path in members.items()}}
        partial = work / "archive.zip"
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:  # owner only
            with zipfile.ZipFile(out, "w") as zf:
                zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
                for name, path in members.items():
                    # A custom-format dump is compressed already; SQLite pages shrink well even at level 1.
                    zf.write(path, name, compress_type=zipfile.ZIP_STORED if name == DUMP else zipfile.ZIP_DEFLATED,
                             compresslevel=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, destination)
    _fsync_dir(destination.parent)
    return Written(destination, destination.stat().st_size, manifest)


def _snapshot_sqlite(db: Database, work: Path) -> tuple[dict[str, Path], str, dict[str, Any]]:
    """The main file, then the inbox file: see the module's docstring for why in this order."""
    assert db.sqlite_path is not None
    if not db.sqlite_path.exists():
        raise BackupError(f"no database at {db.sqlite_path}: run `baodan init` first", code="backup.not_initialised")
    members = {MAIN: work / MAIN}
    _sqlite_copy(db.sqlite_path, members[MAIN])
    if db.inbox_path.exists():
        members[INBOX] = work / INBOX
        _sqlite_copy(db.inbox_path, members[INBOX])
    with closing(sqlite3.connect(members[MAIN])) as conn:
        try:
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError:
            rows = []
    if not rows:
        raise BackupError("the database has no schema yet: run `baodan init` first", code="backup.not_initialised")
    return members, rows[0][0], {}


def _sqlite_copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source, timeout=60)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # pages=-1: the whole file in one step, one read transaction (WAL: writers go on)
        dst.execute("PRAGMA journal_mode=DELETE")  # a file that stands alone, without -wal/-shm


def _dump_postgres(db: Database, work: Path) -> tuple[dict[str, Path], str, dict[str, Any]]:
    tool = _tool("pg_dump")
    schema = search_path_schema(db.url)
    try:
        revision = migrate.current(db)
    except SQLAlchemyError as exc:
        raise _unavailable(exc) from exc
    if revision is None:
        raise BackupError("the database has no schema yet: run `baodan init` first", code="backup.not_initialised")
    args, env = _pg_connection(db)
    out = work / DUMP
    command = [tool, "--format=custom", "--no-password", f"--file={out}", *args]
    if schema:
        command.append('--schema="{}"'.format(schema.replace('"', '""')))  # quoted: the name, not a pattern
    _run(command, env, what="pg_dump", code="backup.dump_failed")
    return {DUMP: out}, revision, {"schema": schema}


# -------------------------------------------------------------------------------------------------- restore


def restore(db: Database, archive: str | Path, *, force: bool = False) -> Restored:
    """Restore `archive` into `db`; with `force`, replace what the database holds. Then migrate to head."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}", code="backup.not_found")
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{archive} is not a readable backup archive ({exc})", code="backup.corrupt") from exc
    with zf:
        manifest = _read_manifest(zf, archive)
        if manifest["dialect"] != db.dialect:
            raise BackupError(f"{archive} is a {manifest['dialect']} backup and the target database is "
                              f"{db.dialect}: restore it into a {manifest['dialect']} database",
                              code="backup.wrong_dialect")
        script = _scripts(db)
        if manifest["revision"] not in {rev.revision for rev in script.walk_revisions()}:
            raise BackupError(f"the archive's schema revision {manifest['revision']!r} is unknown to this BaoDan "
                              f"{__version__} (a newer version's backup?)", code="backup.unknown_revision")
        if db.is_sqlite:
            target = _restore_sqlite(db, zf, manifest, force=force)
        else:
            target = _restore_postgres(db, zf, manifest, force=force)
    db.dispose()  # no connection may outlive the files or schema it was opened on
    head = script.get_current_head()
    assert head is not None
    if manifest["revision"] == head:
        return Restored(manifest, target, head, None)
    try:
        migrate.upgrade(db)
    except Exception as exc:
        raise BackupError(f"restored the archive, but migrating it from {manifest['revision']} to {head} failed: "
                          f"{str(exc).splitlines()[0]}", code="backup.migration_failed") from exc
    return Restored(manifest, target, head, manifest["revision"])


def _read_manifest(zf: zipfile.ZipFile, archive: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise BackupError(f"{archive} has no {MANIFEST}: not a BaoDan backup", code="backup.corrupt") from None
    except (ValueError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        raise BackupError(f"{archive}: unreadable {MANIFEST} ({exc})", code="backup.corrupt") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a BaoDan backup", code="backup.corrupt")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{archive} has backup format version {manifest.get('version')!r}; this BaoDan reads "
                          f"version {VERSION}", code="backup.unsupported_version")
    members = manifest.get("members")
    dialect = manifest.get("dialect")
    if dialect not in _MEMBERS or not isinstance(members, dict) or not isinstance(manifest.get("revision"), str):
        raise BackupError(f"{archive}: {MANIFEST} lacks its dialect, revision or members", code="backup.corrupt")
    required, allowed = _MEMBERS[dialect]
    names = set(zf.namelist())
    if not required <= members.keys() <= allowed or not members.keys() <= names or any(
            not isinstance(m, dict) or not isinstance(m.get("sha256"), str) for m in members.values()):
        raise BackupError(f"{archive}: its members do not match {MANIFEST}", code="backup.corrupt")
    return manifest


def _extract(zf: zipfile.ZipFile, name: str, expected: dict[str, Any], directory: Path) -> Path:
    """Copy member `name` to a new temporary file in `directory`, fsynced, checking its sha256."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.restore-")
    path = Path(tmp)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, zf.open(name) as member:
            while chunk := member.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        path.unlink(missing_ok=True)
        raise BackupError(f"{name} in the archive is damaged ({exc})", code="backup.corrupt") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != expected["sha256"]:
        path.unlink(missing_ok=True)
        raise BackupError(f"{name} in the archive does not match the checksum in its {MANIFEST}",
                          code="backup.checksum_mismatch")
    return path


def _restore_sqlite(db: Database, zf: zipfile.ZipFile, manifest: dict[str, Any], *, force: bool) -> str:
    assert db.sqlite_path is not None
    main, inbox = db.sqlite_path, db.inbox_path
    if not force and (_sqlite_has_rows(main) or _sqlite_has_rows(inbox)):
        raise BackupError(f"{main} already holds data: restore into a new database, or pass --force to replace it",
                          code="backup.target_not_empty")
    main.parent.mkdir(parents=True, exist_ok=True)
    temps: dict[str, Path] = {}
    try:
        for name, expected in manifest["members"].items():
            temps[name] = _extract(zf, name, expected, main.parent)
        db.dispose()
        for name, final in ((INBOX, inbox), (MAIN, main)):  # the main file last: when it is new, all is
            for suffix in ("-wal", "-shm", "-journal"):  # the old file's logs would be replayed onto the new one
                Path(f"{final}{suffix}").unlink(missing_ok=True)
            if name in temps:
                os.replace(temps.pop(name), final)
            else:
                final.unlink(missing_ok=True)
        _fsync_dir(main.parent)
    finally:
        for path in temps.values():
            path.unlink(missing_ok=True)
    return str(main)


# What `baodan init` writes into a new database (the first admin and the audit of its creation): a
# database holding only these is still empty for a restore, which replaces them with the archive's own.
SETUP_TABLES = ("alembic_version", "app_user", "user_scope", "app_role", "user_session", "api_key", "audit_log")


def _sqlite_has_rows(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with closing(sqlite3.connect(path, timeout=60)) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                 "AND name NOT LIKE 'sqlite_%'") if r[0] not in SETUP_TABLES]
            return any(conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0] for t in tables)
    except sqlite3.DatabaseError:
        return True  # a file we cannot read is never replaced without --force


def _restore_postgres(db: Database, zf: zipfile.ZipFile, manifest: dict[str, Any], *, force: bool) -> str:
    schema = search_path_schema(db.url)
    if manifest.get("schema") != schema:
        held = f"schema {manifest.get('schema')}" if manifest.get("schema") else "a whole database"
        wanted = f"schema {schema}" if schema else "a whole database (no search_path)"
        raise BackupError(f"the archive holds {held} and the target URL names {wanted}: pg_restore recreates "
                          "objects under their schema's name, so restore into a URL whose search_path names the "
                          "same schema (in another database if need be)", code="backup.schema_mismatch")
    tool = _tool("pg_restore")
    target = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=True)
    try:
        has_rows = _pg_has_rows(db)
    except SQLAlchemyError as exc:
        raise _unavailable(exc) from exc
    if has_rows and not force:
        raise BackupError(f"the target ({target}) already holds data: restore into a new database or schema, or "
                          "pass --force to replace it", code="backup.target_not_empty")
    args, env = _pg_connection(db)
    with tempfile.TemporaryDirectory(prefix="baodan-restore-") as tmp:
        dump = _extract(zf, DUMP, manifest["members"][DUMP], Path(tmp))
        # --clean --if-exists drops what the archive holds before recreating it, in the same transaction.
        _run([tool, "--no-password", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--clean", "--if-exists", *args, str(dump)], env, what="pg_restore", code="backup.restore_failed")
    return target


def _pg_has_rows(db: Database) -> bool:
    with db.engine.connect() as conn:
        tables = conn.exec_driver_sql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname = current_schema()").scalars().all()
        tables = [t for t in tables if t.split(".")[-1].strip('"') not in SETUP_TABLES]
        return any(conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {t})").scalar() for t in tables)


# ---------------------------------------------------------------------------------------------------- shared


def search_path_schema(url: str) -> str | None:
    """The first schema of a `options=-csearch_path=...` in a PostgreSQL URL, or None."""
    options = make_url(url).query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    match = _SEARCH_PATH.search(options or "")
    if not match:
        return None
    return match.group(1).split(",")[0].strip().strip('"') or None


def _pg_connection(db: Database) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment for pg_dump/pg_restore; the password only in PGPASSWORD."""
    url = make_url(db.url)
    query = {k: v[0] if isinstance(v, tuple) else v for k, v in url.query.items()}
    args: list[str] = []
    host = url.host or query.get("host")
    if host:
        args.append(f"--host={host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    if url.database:
        args.append(f"--dbname={url.database}")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    for key, var in _PG_ENV.items():
        if key in query:
            env[var] = str(query[key])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH: install the PostgreSQL client tools (the same major version "
                          "as the server or newer)", code="backup.tool_missing")
    return path


def _run(command: list[str], env: dict[str, str], *, what: str, code: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        detail = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
        raise BackupError(f"{what} failed (exit {done.returncode}): {detail}", code=code)


def _scripts(db: Database) -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config(db))


def _unavailable(exc: Exception) -> BackupError:
    return BackupError(f"cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
                       code="database.unavailable")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
