"""How ``multichat.ignore_files`` reads an ignore-file line: git's rules where git is not asked
(choosing the template line to name), Docker's for ``.dockerignore``. The rules: gitignore(5)
("PATTERN FORMAT", https://git-scm.com/docs/gitignore) and Docker's
https://docs.docker.com/build/concepts/context/#dockerignore-files.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from multichat.ignore_files import (
    covering_line,
    covers,
    docker_would_copy,
    git_would_commit,
    patterns,
    template_patterns,
)

CASES = [
    # pattern, path, git covers it, Docker covers it
    ("token.json", "src/providers/alpha/token.json", True, False),  # Docker: the root's only
    ("**/token.json", "src/providers/alpha/token.json", True, True),
    ("**/token.json", "token.json", True, True),
    ("*token*.json", "secrets/alpha-token.json", True, False),
    ("**/*token*.json", "secrets/alpha-token.json", True, True),
    (".multichat/users/", ".multichat/users/", True, True),
    (".multichat/users/", ".multichat/users/0f1e/alpha/state/watermarks.json", True, True),
    (".multichat/users/", "src/.multichat/users/", False, False),  # a slash anchors it
    (".multichat/", ".multichat/oauth-proxy/", True, True),
    ("__pycache__/", "src/__pycache__/", True, False),
    ("!token.json", "token.json", False, False),  # a negation re-includes: it covers nothing
    ("*.json.lock", "src/providers/alpha/token.json", False, False),
]


@pytest.mark.parametrize(("pattern", "path", "by_git", "by_docker"), CASES)
def test_a_line_covers_a_path_by_git_and_by_docker_rules(
    pattern: str, path: str, by_git: bool, by_docker: bool
) -> None:
    assert covers(pattern, path, docker=False) is by_git
    assert covers(pattern, path, docker=True) is by_docker


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(("pattern", "path", "by_git"), [case[:3] for case in CASES])
def test_git_reads_each_line_the_same_way(
    tmp_path: Path, pattern: str, path: str, by_git: bool
) -> None:
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True, timeout=60)
    (tmp_path / ".gitignore").write_text(f"{pattern}\n")
    assert git_would_commit(tmp_path, [path]) == ([] if by_git else [path])


def test_the_template_names_the_first_line_that_covers_a_path() -> None:
    gitignore = template_patterns(".gitignore")
    dockerignore = template_patterns(".dockerignore")
    assert covering_line(gitignore, "src/providers/a/token.json", docker=False) == "token.json"
    assert covering_line(dockerignore, "src/providers/a/token.json", docker=True) == (
        "**/token.json"
    )
    assert covering_line(gitignore, "keys/a.json", docker=False) == "keys/a.json"  # none does


def test_comments_and_blank_lines_are_not_patterns() -> None:
    assert patterns("# secrets\n\ntoken.json\n  .env  \n") == ["token.json", ".env"]


def test_outside_a_repository_git_is_not_asked(tmp_path: Path) -> None:
    assert git_would_commit(tmp_path, ["token.json"]) is None


# Docker's rule (https://docs.docker.com/build/concepts/context/#dockerignore-files): "You can
# use the ! character to make exceptions to exclusions ... the last line of the .dockerignore
# that matches a particular file determines whether it's included or excluded."
DOCKER_CASES = [
    # .dockerignore lines, path, copied into the image
    (["**/token.json"], "src/providers/alpha/token.json", False),
    (["**/token.json", "!src/providers/alpha/token.json"], "src/providers/alpha/token.json", True),
    (["!src/providers/alpha/token.json", "**/token.json"], "src/providers/alpha/token.json", False),
    (["**/token.json", "!src/providers/beta/token.json"], "src/providers/alpha/token.json", False),
    ([".multichat/users/", "!.multichat/users/0f1e/"], ".multichat/users/", True),  # partly
    ([".multichat/", "!.multichat/users/"], ".multichat/oauth-proxy/", False),
    (["secrets", "!secrets/*.json"], "secrets/gamma.json", True),
]


@pytest.mark.parametrize(("lines", "path", "copied"), DOCKER_CASES)
def test_the_last_dockerignore_line_that_matches_decides(
    tmp_path: Path, lines: list[str], path: str, copied: bool
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("\n".join(lines) + "\n")
    assert docker_would_copy(tmp_path, [path]) == ([path] if copied else [])
