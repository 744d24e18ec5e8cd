"""Property-based: any input either parses or raises our own error, never anything else."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ncr_provider.errors import InvalidNameError, InvalidResponseError
from ncr_provider.model import ImageDetails, parse_json_object
from ncr_provider.names import find_references, parse_reference, validate_image_name, validate_registry

# Text biased towards the characters that matter in paths and references.
TOKENS = [*"abz09-_./:@%?#\\ \t\r\n\x00ЕеＡ", "..", "%2F", "%2e", "sha256:", "kr.ncr.ntruss.com", "/", "prod"]
tricky = st.lists(st.sampled_from(TOKENS), max_size=20).map("".join)
any_text = st.one_of(st.text(max_size=80), tricky)
SAFE_PATH_CHARS = re.compile(r"[a-z0-9._/-]+")


def accepted_or_refused(validate, value, field):
    """What a validator accepted, or None when it refused the value with an error naming `field`."""
    try:
        return validate(value)
    except InvalidNameError as exc:
        assert exc.field == field
        return None


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_registry_validator_accepts_only_safe_single_segments(value):
    accepted = accepted_or_refused(validate_registry, value, "registry")
    if accepted is not None:
        assert accepted == value and "/" not in value and SAFE_PATH_CHARS.fullmatch(value)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_image_validator_never_lets_a_name_change_the_path(value):
    accepted = accepted_or_refused(validate_image_name, value, "image_name")
    if accepted is not None:
        assert SAFE_PATH_CHARS.fullmatch(accepted)
        assert all(segment and segment not in (".", "..") for segment in accepted.split("/"))


@settings(max_examples=400, deadline=None)
@given(st.one_of(any_text, st.builds(lambda a, b: f"{a}.kr.ncr.ntruss.com/{b}", tricky, tricky)))
def test_reference_parser_parses_or_raises_invalid_name(value):
    try:
        ref = parse_reference(value)
    except InvalidNameError:
        return
    assert validate_registry(ref.registry) == ref.registry
    assert validate_image_name(ref.image_name) == ref.image_name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
FIELDS = ["pull_count", "last_updated", "last_update", "tag_mutability_enabled", "description", "status", "star_count"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.binary(max_size=60),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5).map(lambda v: json.dumps(v).encode()),
))
def test_response_parser_parses_or_raises_invalid_response(body):
    try:
        details = ImageDetails.from_wire(parse_json_object(body, "image"), "image")
    except InvalidResponseError:
        return
    assert details.pull_count is None or isinstance(details.pull_count, int)
    details.to_dict()


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_find_references_never_raises(value):
    for found in find_references(value):
        assert (found.ref is None) != (found.error is None)
