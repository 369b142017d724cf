"""Validate the OpenAPI spec with an outside validator, then check recorded real responses against it.

usage: check_responses.py SPEC SAMPLES
SAMPLES is a JSON list of {"method", "path" (the spec's template), "status", "body"} recorded from the server.
Every sample's status must be documented for its operation, and its body must match the documented schema.
"""
import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def main(spec_path, samples_path):
    with open(spec_path) as f:
        spec = json.load(f)
    with open(samples_path) as f:
        samples = json.load(f)
    validate(spec)
    registry = Registry().with_resource("urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012))
    failures = []
    for sample in samples:
        label = f'{sample["method"].upper()} {sample["path"]} -> {sample["status"]}'
        operation = spec["paths"].get(sample["path"], {}).get(sample["method"].lower())
        if operation is None:
            failures.append(f"{label}: operation not documented")
            continue
        response = operation["responses"].get(str(sample["status"]))
        if response is None:
            failures.append(f"{label}: status not documented")
            continue
        content = response.get("content", {}).get("application/json")
        if content is None:
            if sample["body"] is not None:
                failures.append(f"{label}: body sent but none documented")
            continue
        schema = rewrite_refs(content["schema"])
        errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(sample["body"]), key=str)
        for error in errors:
            failures.append(f"{label}: {error.message} at {list(error.absolute_path)}")
    for failure in failures:
        print("MISMATCH", failure)
    print(f"responses checked: {len(samples) - len(failures)} ok, {len(failures)} mismatched")
    return 1 if failures else 0


def rewrite_refs(node):
    """Point the spec's local refs at the registered spec document."""
    if isinstance(node, dict):
        return {k: ("urn:spec" + v if k == "$ref" and v.startswith("#") else rewrite_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite_refs(v) for v in node]
    return node


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
