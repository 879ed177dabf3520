"""Prints the template as CloudFormation after the SAM transform, as JSON, offline.

Runs in the SAM CLI's environment (`.tools/sam/bin/python sam_transform.py template.yaml`):
samtranslator expands functions, APIs and event sources into the resources that deploy,
which is what a scanner should see too. Local CodeUris become placeholder S3 URIs, as
`sam validate` does, and managed policies resolve from samtranslator's bundled list.

SAM substitutes parameters' values for their Refs in some properties (an HttpApi's
CorsConfiguration): CloudFormation hands it a CommaDelimitedList's value as a list, so the
defaults go in as lists here too, not as the text SAM would read from the template.
"""

import json
import sys
from pathlib import Path

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform


class BundledPoliciesOnly:
    def load(self) -> dict[str, str]:
        return {}


def main(path: str) -> None:
    template = yaml_parse(Path(path).read_text())
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            value = properties.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                properties[key] = f"s3://placeholder/{value}"
    parameters = {
        name: [item.strip() for item in str(spec["Default"]).split(",")]
        for name, spec in (template.get("Parameters") or {}).items()
        if spec.get("Type") == "CommaDelimitedList" and "Default" in spec
    }
    print(json.dumps(transform(template, parameters, BundledPoliciesOnly()), indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
