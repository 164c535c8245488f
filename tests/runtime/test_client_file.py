"""``credentials.json`` read strictly: each way it can be wrong is one line without its values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multichat.runtime.client_file import BadClientFile, ClientFile, read_client_file

SECRET = "s3cr3t-never-shown"


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        (b"\xff\xfe{}", " is not a readable JSON file: it is not UTF-8 text"),
        (b"", " is not a readable JSON file: Expecting value (line 1, column 1)"),
        (json.dumps([SECRET]).encode(), " is a JSON array, not an object with client_id and"),
        (json.dumps(SECRET).encode(), " is a JSON string, not an object with client_id and"),
        (json.dumps({"client_id": 7}).encode(), ": `client_id` is a JSON number, not a string"),
        (json.dumps({"client_id": True}).encode(), ": `client_id` is a JSON boolean, not a"),
        (json.dumps({"client_secret": [SECRET]}).encode(), ": `client_secret` is a JSON array"),
    ],
    ids=["not utf-8", "empty", "array", "string", "number id", "boolean id", "array secret"],
)
def test_a_broken_file_names_itself_and_the_fault_never_a_value(
    tmp_path: Path, content: bytes, fault: str
) -> None:
    path = tmp_path / "credentials.json"
    path.write_bytes(content)

    with pytest.raises(BadClientFile) as caught:
        read_client_file(path)

    assert str(caught.value).startswith(f"{path}{fault}")
    assert SECRET not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_googles_sections_are_read_and_named_when_wrong(tmp_path: Path) -> None:
    """Google's client files nest the client (docs: developers.google.com/identity/protocols/
    oauth2/native-app): ``installed`` for a desktop app, ``web`` for a web client."""
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"web": {"client_id": "g", "client_secret": SECRET}}))
    assert read_client_file(path) == ClientFile("g", SECRET)

    path.write_text(json.dumps({"installed": None}))
    with pytest.raises(BadClientFile, match=r"^`installed` in .* is a JSON null, not an object"):
        read_client_file(path)


def test_no_file_is_none_and_a_folder_is_named(tmp_path: Path) -> None:
    assert read_client_file(tmp_path / "credentials.json") is None
    (tmp_path / "credentials.json").mkdir()
    with pytest.raises(BadClientFile, match=r"is a folder, not a file$"):
        read_client_file(tmp_path / "credentials.json")


def test_the_secret_alone_or_nulls_are_a_file_without_an_id(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"client_secret": SECRET, "client_id": None}))
    held = read_client_file(path)
    assert held == ClientFile(None, SECRET)
    assert SECRET not in repr(held)
