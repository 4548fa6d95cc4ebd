"""Prints docker-compose.yml as JSON, so that a Rust test can check it.

Usage: python py/compose_json.py '{"file": "<path>"}'
"""

import json
import sys

import yaml

PLAN = json.loads(sys.argv[1])
with open(PLAN["file"]) as source:
    print(json.dumps(yaml.safe_load(source)))
