"""Plan a client's file change (shown by ``--dry-run``), then apply it atomically.

:func:`plan_install` reads the client's file, computes the new text with the one server entry
added, replaced or removed (every other byte kept, see ``json_splice`` and ``yaml_splice``),
and returns a :class:`ClientChange`; nothing is written. :func:`apply` writes it by temporary
file and rename, keeping the file's mode, unless the file changed in between.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multichat.atomic_file import write_atomically
from multichat.clients import json_splice, yaml_splice
from multichat.clients.entry import ServerEntry
from multichat.clients.errors import (
    ClientError,
    ClientFileChanged,
    ClientNotInstalled,
    EntryNotFound,
    InvalidClientFile,
)
from multichat.clients.jsonc import JSONC
from multichat.clients.registry import Client, Places, get_client, normalize_platform
from multichat.clients.render import Rendered, input_references
from multichat.yaml_documents import to_plain

#: A new file that holds a secret is created readable by its owner only.
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


@dataclass(frozen=True)
class ClientChange:
    """What ``install`` would do to one client's file; ``path`` None means print ``new_text``."""

    client: str
    path: Path | None
    old_text: str | None
    new_text: str
    description: str
    warnings: tuple[str, ...] = ()
    #: The mode of a file that does not exist yet; an existing file keeps its own.
    mode: int = PUBLIC_MODE

    @property
    def changed(self) -> bool:
        """Whether applying would write anything."""
        return self.path is not None and self.old_text != self.new_text

    @property
    def diff(self) -> str:
        """A unified diff from the current file to the new one (empty if nothing changes)."""
        if not self.changed:
            return ""
        assert self.path is not None
        return "".join(
            difflib.unified_diff(
                _ending_with_newline(self.old_text or "").splitlines(keepends=True),
                _ending_with_newline(self.new_text).splitlines(keepends=True),
                fromfile=str(self.path) if self.old_text is not None else "/dev/null",
                tofile=str(self.path),
            )
        )


def plan_install(
    client: str,
    entry: ServerEntry,
    *,
    home: Path,
    cwd: Path,
    platform: str,
    remove: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ClientChange:
    """Plan adding (or, with ``remove``, taking out) ``entry`` in ``client``'s file.

    Args:
        client: One of :data:`multichat.clients.CLIENT_NAMES`.
        entry: The server, from :func:`multichat.clients.server_entry`.
        home: The user's home folder (app-level files live under it).
        cwd: The project folder, for the clients whose file belongs to a project.
        platform: ``sys.platform``'s value: files differ between Linux and macOS.
        remove: Plan removing the server named ``entry.name`` instead.
        environ: Variables that move files (``XDG_CONFIG_HOME``); none when omitted.

    Raises:
        ClientError: a subclass saying what to fix; the file is never touched here.
    """
    spec = get_client(client)
    places = Places(home, cwd, normalize_platform(platform), dict(environ or {}))
    if spec.locate is None:
        return _printed(spec, entry, remove)
    path = spec.locate(places)
    old_text = _read(path)
    if remove:
        return _removal(spec, path, old_text, entry.name)
    if spec.needs_folder and not path.parent.is_dir():
        raise ClientNotInstalled(
            f"{path.parent} does not exist: install {spec.title} and start it once, "
            "or print the entry with `multichat install mcp-json`"
        )
    rendered = spec.render(entry)
    text = old_text or ""
    existed = _holds(spec, path, text, entry.name)
    new_text = _with_entry(spec, path, text, entry.name, rendered)
    if old_text is None:
        action = f"create {path} with the `{entry.name}` server for {spec.title}"
    elif new_text == old_text:
        action = f"{spec.title}'s {path} already has this `{entry.name}` server: nothing to change"
    else:
        verb = "replace the" if existed else "add the"
        action = f"{verb} `{entry.name}` server {'in' if existed else 'to'} {spec.title}'s {path}"
    secrets = [variable.name for variable in entry.env if variable.is_secret_in_file]
    return ClientChange(
        client=spec.name,
        path=path,
        old_text=old_text,
        new_text=new_text,
        description=action,
        warnings=_secret_warnings(spec, path, secrets),
        mode=PRIVATE_MODE if secrets else PUBLIC_MODE,
    )


def apply(change: ClientChange) -> None:
    """Write ``change`` by temporary file and rename; a printed change has nothing to write.

    A symlinked file (dotfiles) is written through the link. The file keeps its mode.

    Raises:
        ClientFileChanged: the file is no longer what the plan read; nothing was written.
    """
    if change.path is None or not change.changed:
        return
    target = change.path.resolve() if change.path.is_symlink() else change.path
    if _read(target) != change.old_text:
        raise ClientFileChanged(
            f"{change.path} changed since it was read (is {change.client} running?); "
            "nothing was written: run the command again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = change.mode if change.old_text is None else None
    write_atomically(target, change.new_text.encode("utf-8"), mode)


def _read(path: Path) -> str | None:
    """The file's exact text (line endings kept), or None if it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise InvalidClientFile(f"{path} is a folder, not a settings file") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidClientFile(
            f"{path}:{line}: not UTF-8 text; the file was left unchanged"
        ) from None


def _printed(spec: Client, entry: ServerEntry, remove: bool) -> ClientChange:
    if remove:
        raise ClientError("mcp-json only prints an entry: there is no file to remove it from")
    rendered = spec.render(entry)
    text = json.dumps({spec.servers_key: {entry.name: rendered.value}}, indent=2) + "\n"
    secrets = [variable.name for variable in entry.env if variable.is_secret_in_file]
    warnings = (f"the printed entry holds the value of {', '.join(secrets)}",) if secrets else ()
    return ClientChange(
        client=spec.name,
        path=None,
        old_text=None,
        new_text=text,
        description=f"the `{entry.name}` entry for {spec.title}: paste it into your client's file",
        warnings=warnings,
    )


def _holds(spec: Client, path: Path, text: str, name: str) -> bool:
    """Whether the file already has a server called ``name`` (checking its shape)."""
    servers = _data(spec, path, text).get(spec.servers_key)
    return isinstance(servers, dict) and name in servers


def _data(spec: Client, path: Path, text: str) -> dict[str, Any]:
    if spec.dialect is None:
        document = yaml_splice.read_document(text, str(path))
        plain = to_plain(document)
        return plain if isinstance(plain, dict) else {}
    return json_splice.read_data(text, str(path), spec.dialect)


def _with_entry(spec: Client, path: Path, text: str, name: str, rendered: Rendered) -> str:
    source = str(path)
    if spec.dialect is None:
        return yaml_splice.set_entry(text, source, spec.servers_key, name, rendered.value)
    before = _data(spec, path, text).get(spec.servers_key)
    old_entry = before.get(name) if isinstance(before, dict) else None
    keys = (spec.servers_key, name)
    text = json_splice.set_member(text, source, spec.dialect, keys, rendered.value)
    if spec.name == "vscode":
        text = _sync_inputs(text, source, input_references(old_entry), rendered.inputs)
    return text


def _removal(spec: Client, path: Path, old_text: str | None, name: str) -> ClientChange:
    source = str(path)
    missing = EntryNotFound(f"{path} has no `{name}` server to remove")
    if old_text is None:
        raise EntryNotFound(f"{path} does not exist: there is no `{name}` server to remove")
    new_text: str | None
    if spec.dialect is None:
        new_text = yaml_splice.remove_entry(old_text, source, spec.servers_key, name)
    else:
        servers = json_splice.read_data(old_text, source, spec.dialect).get(spec.servers_key)
        old_entry = servers.get(name) if isinstance(servers, dict) else None
        keys = (spec.servers_key, name)
        new_text = json_splice.remove_member(old_text, source, spec.dialect, keys)
        if new_text is not None and spec.name == "vscode":
            new_text = _sync_inputs(new_text, source, input_references(old_entry), [])
    if new_text is None:
        raise missing
    return ClientChange(
        client=spec.name,
        path=path,
        old_text=old_text,
        new_text=new_text,
        description=f"remove the `{name}` server from {spec.title}'s {path}",
    )


def _sync_inputs(
    text: str, source: str, old_ids: set[str], new_inputs: list[dict[str, Any]]
) -> str:
    """Add the inputs the entry needs; drop those only its old version used.

    An ``inputs`` array left empty by that goes too, so installing then removing a server
    gives back the file as it was.
    """
    data = json_splice.read_data(text, source, JSONC)
    inputs = data.get("inputs", [])
    if not isinstance(inputs, list):
        raise InvalidClientFile(f"{source}: `inputs` must be a JSON array [...]")
    present = {item.get("id") for item in inputs if isinstance(item, dict)}
    for item in new_inputs:
        if item["id"] not in present:
            text = json_splice.append_item(text, source, JSONC, ("inputs",), item)
    data = json_splice.read_data(text, source, JSONC)
    still_used = input_references({key: value for key, value in data.items() if key != "inputs"})
    stale = old_ids - still_used
    inputs = data.get("inputs", [])
    dropped = [
        index
        for index, item in enumerate(inputs)
        if isinstance(item, dict) and item.get("id") in stale
    ]
    if dropped and len(dropped) == len(inputs):
        return json_splice.remove_member(text, source, JSONC, ("inputs",)) or text
    for index in reversed(dropped):
        text = json_splice.remove_item(text, source, JSONC, ("inputs",), index)
    return text


def _secret_warnings(spec: Client, path: Path, secrets: list[str]) -> tuple[str, ...]:
    if not secrets:
        return ()
    advice = "keep it private"
    if spec.project_file:
        advice += " and out of version control"
    if path.exists() and path.stat().st_mode & 0o077:
        advice += f" (it is readable by others: chmod 600 {path})"
    if spec.name == "vscode":
        advice += "; --env NAME without a value makes VS Code prompt for it instead"
    return (f"{path} will hold the value of {', '.join(secrets)} in plain text: {advice}",)


def _ending_with_newline(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"
