"""The ``kefu`` command."""

import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kefu manage", *argv[1:]])
        return 0
    print("usage: kefu manage ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
