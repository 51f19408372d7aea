"""Default configs of the train scripts, one module per script: ``configs[config_key]``."""
