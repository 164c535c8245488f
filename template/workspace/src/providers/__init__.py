"""One package per provider; the folder name matches its key in provider-config.yaml."""
