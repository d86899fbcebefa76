"""The stored shape of a condition set and the error raised for a bad one."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Condition(BaseModel):
    """One ``{"field": ..., "operator": ..., "value": ...}`` entry, as stored and sent by the API.

    ``value`` stays as the client wrote it (``"24"``, ``"vip refund"``, ``123``): the field's spec
    cleans it when the conditions are bound, so what we store round-trips unchanged.
    """

    # Strict, as CONVENTIONS.md asks for rule conditions: "field": 3 is an error, not "3".
    # Unknown keys are ignored, as everywhere in the Zendesk-compatible API.
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    field: str
    operator: str
    value: Any = None


class Conditions(BaseModel):
    """Zendesk's condition set: every ``all`` entry matches, and at least one ``any`` entry
    if there are any."""

    model_config = ConfigDict(strict=True, extra="ignore")

    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)


class ConditionError(ValueError):
    """Conditions that cannot be used. ``details`` is the body of a Zendesk-shaped 422:
    ``{"conditions": [{"description": "all[0]: Unknown field: foo", "error": "InvalidValue"}]}``.
    """

    def __init__(self, descriptions: list[str]) -> None:
        self.descriptions = descriptions
        super().__init__("; ".join(descriptions))

    @property
    def details(self) -> dict[str, list[dict[str, str]]]:
        return {
            "conditions": [
                {"description": description, "error": "InvalidValue"}
                for description in self.descriptions
            ]
        }
