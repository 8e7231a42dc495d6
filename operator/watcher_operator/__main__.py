"""``python -m watcher_operator``: ``kopf run`` on the handlers, with flags from the settings."""

from __future__ import annotations

import sys

from watcher_operator.config import ConfigError, Settings

HANDLERS_MODULE = "watcher_operator.handlers"


def kopf_args(settings: Settings) -> list[str]:
    """The ``kopf`` command line that runs the operator as the settings say."""
    args = ["run", "--module", HANDLERS_MODULE]
    # Standalone: no peering objects (and no RBAC for them); run exactly one replica.
    if settings.peering:
        args += ["--peering", settings.peering, f"--priority={settings.priority}"]
    else:
        args.append("--standalone")
    if settings.clusterwide:
        args.append("--all-namespaces")
    else:
        args += [f"--namespace={namespace}" for namespace in settings.namespaces]
    if settings.liveness_port:
        args.append(f"--liveness=http://0.0.0.0:{settings.liveness_port}/healthz")
    args.append(f"--log-format={settings.log_format}")
    args += {"debug": ["--debug"], "info": [], "warning": ["--quiet"]}[settings.log_level]
    return args


def main(argv: list[str] | None = None) -> int:
    if argv:
        print(
            "usage: python -m watcher_operator (settings come from WATCHER_OPERATOR_*)",
            file=sys.stderr,
        )
        return 2
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    import kopf.cli  # after validation: a bad setting fails fast and readably

    return (
        kopf.cli.main(args=kopf_args(settings), prog_name="watcher_operator", standalone_mode=False)
        or 0
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
