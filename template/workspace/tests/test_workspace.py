"""Every configured provider loads and follows the three-file contract."""

from multichat.runtime import load_providers


def test_every_provider_loads(workspace_config):
    report = load_providers(workspace_config)
    assert report.failures == []
    assert sorted(report.providers) == sorted(workspace_config.providers)
