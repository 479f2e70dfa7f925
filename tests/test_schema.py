"""Plan schemas pass the strict structured-output rules, and the lint that says so can fail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from template_support import ALL_TEMPLATES, filled, template

from agent.template.model import HEADER
from agent.template.schema import json_schema, plan_model, strict_problems, unit_model, unit_names


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_plan_schema_is_strict(name: str) -> None:
    assert strict_problems(json_schema(plan_model(template(name)))) == []


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_each_section_schema_is_strict(name: str) -> None:
    compiled = template(name)

    problems = {unit: strict_problems(json_schema(unit_model(compiled, unit))) for unit in unit_names(compiled)}

    assert problems == {unit: [] for unit in unit_names(compiled)}


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_schema_has_no_refs(name: str) -> None:
    text = json.dumps(json_schema(plan_model(template(name))))

    assert "$ref" not in text
    assert "$defs" not in text


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_section_calls_cover_the_whole_plan(name: str) -> None:
    compiled = template(name)
    whole = json_schema(plan_model(compiled))["properties"]

    names = unit_names(compiled)

    assert names == list(whole)
    for unit in names:
        assert json_schema(unit_model(compiled, unit))["properties"] == {unit: whole[unit]}


def test_header_is_asked_for_first() -> None:
    assert unit_names(template("002"))[0] == HEADER


def test_unknown_section_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match="no section named 'nope'"):
        unit_model(template("compact"), "nope")


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_a_filled_answer_validates_against_the_model(name: str) -> None:
    compiled = template(name)

    plan = plan_model(compiled).model_validate(filled(compiled))

    assert plan.model_dump(by_alias=True) == filled(compiled)


def test_model_rejects_a_value_outside_the_enum() -> None:
    compiled = template("002")
    answer = filled(compiled)
    answer["header"]["status"] = "shipped"

    with pytest.raises(ValidationError, match="status"):
        plan_model(compiled).model_validate(answer)


def test_model_rejects_unknown_keys() -> None:
    compiled = template("compact")
    answer = filled(compiled)
    answer["goal_extra"] = "something the schema did not ask for"

    with pytest.raises(ValidationError, match="goal_extra"):
        plan_model(compiled).model_validate(answer)


def test_descriptions_reach_the_schema() -> None:
    schema = json_schema(plan_model(template("compact")))

    assert "the outcome, and how we will know it worked" in schema["properties"]["goal"]["description"]


# The lint itself: each rule, broken on purpose, is reported.

GOOD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"goal": {"type": "string"}},
    "required": ["goal"],
}


def with_change(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_lint_passes_a_good_schema() -> None:
    assert strict_problems(GOOD) == []


def test_lint_catches_missing_additional_properties() -> None:
    schema = {key: value for key, value in GOOD.items() if key != "additionalProperties"}

    assert strict_problems(schema) == ["$: objects need `additionalProperties: false` (no dict[str, X])"]


def test_lint_catches_an_optional_property() -> None:
    schema = with_change(properties={"goal": {"type": "string"}, "notes": {"type": "string"}})

    assert strict_problems(schema) == ["$: every property must be required"]


def test_lint_catches_all_of() -> None:
    schema = with_change(properties={"goal": {"allOf": [{"type": "string"}]}})

    assert strict_problems(schema) == ["$.goal: uses `allOf`"]


def test_lint_catches_a_dict_typed_object() -> None:
    class Loose(BaseModel):
        model_config = ConfigDict(extra="forbid")
        labels: dict[str, str]

    problems = strict_problems(json_schema(Loose))

    assert "$.labels: objects need `additionalProperties: false` (no dict[str, X])" in problems
    assert "$.labels: an object needs at least one property" in problems


def test_lint_catches_problems_deep_inside_arrays_and_unions() -> None:
    inner = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
    schema = with_change(properties={"goal": {"anyOf": [{"type": "array", "items": inner}, {"type": "null"}]}})

    assert strict_problems(schema) == ["$.goal.anyOf[0].[]: objects need `additionalProperties: false` (no dict[str, X])"]


def test_lint_catches_a_non_object_root_and_refs() -> None:
    problems = strict_problems({"$ref": "#/$defs/Plan", "$defs": {}})

    assert "$: the root must be an object" in problems
    assert "$: uses `$ref`" in problems
    assert "$: uses `$defs`" in problems


def test_lint_catches_objects_nested_deeper_than_strict_mode_allows() -> None:
    leaf: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        leaf = {"type": "object", "properties": {"x": leaf}, "required": ["x"], "additionalProperties": False}
    assert strict_problems(leaf) == ["$.x.x.x.x.x.x.x.x.x.x: objects nest 11 deep; strict mode allows 10"]
    assert strict_problems(leaf["properties"]["x"]) == []
