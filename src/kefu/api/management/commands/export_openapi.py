"""``kefu manage export_openapi [--output docs/openapi.json]``: write the served OpenAPI
document (``make openapi`` runs it; a test fails when the committed copy differs)."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from kefu.api.site import openapi_document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write the API's OpenAPI document (default: print it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", "-o", help="File to write (default: standard output)")

    def handle(self, *args: Any, output: str | None = None, **options: Any) -> None:
        text = render()
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {output}")
        else:
            self.stdout.write(text, ending="")
