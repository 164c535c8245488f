from helpers import run_cli


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("multichat ")


def test_fixture_workspace(add_provider, workspace):
    folder = add_provider("alpha")
    assert (folder / "mcp_instance.py").is_file()
    assert "alpha:" in (workspace / "provider-config.yaml").read_text()
