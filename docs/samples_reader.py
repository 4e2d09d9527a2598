"""Reads the completions that r1lab writes: a run's samples.jsonl (one record per logged group, with its step) or
the file of `r1lab eval --samples` (one record per problem). Shared by the docs/*_stats.py scripts.
Standard library only."""
import json


def groups(path, steps=None):
    """Yields (record, completions) for each problem or group in path; a run's groups only for steps in the
    inclusive range steps = (first, last), when given. Lines that are not JSON (a run cut mid-write) are skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "samples" in rec:  # r1lab eval --samples
                yield rec, rec["samples"]
                continue
            if steps and not steps[0] <= rec.get("step", 0) <= steps[1]:
                continue
            yield rec, rec.get("completions", [])
