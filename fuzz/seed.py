#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/seed-*.

Seeds come from examples-repo/, tests/bad-repos/ and ../shared/eksctl/examples/ (when that folder
exists), in the formats of crates/eksync-core/src/fuzz_targets.rs: a repository is a bundle of
files, each introduced by a line `==> path <==`; a pair is two JSON values one after the other.
Only small files are taken (MAX_FILE bytes). Run from anywhere: `python3 fuzz/seed.py`. Existing
seeds are overwritten; inputs libFuzzer found (named by their hash) and `crash-*` regressions are
left alone.
"""

import hashlib
import json
import os
import pathlib
import re
import sys
import urllib.parse

import yaml  # PyYAML (Debian: python3-yaml)

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
EXAMPLES = ROOT / "examples-repo"
BAD = ROOT / "tests" / "bad-repos"
EKSCTL = ROOT.parent / "shared" / "eksctl" / "examples"
MAX_FILE = 16 * 1024
# Bad repos left out: slow to replay in a debug build (seconds), and covered by tests/bad_inputs.rs.
SKIP_BAD = {"yaml-alias-bomb"}
READ = (".yaml", ".yml", ".json")


def files_of(folder):
    """(repo-relative path, bytes) of the YAML/JSON files under folder, small ones only."""
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink() and p.suffix in READ and p.stat().st_size <= MAX_FILE:
            out.append((p.relative_to(folder).as_posix(), p.read_bytes()))
    return out


def bundle(files):
    out = b""
    for path, data in files:
        out += b"==> " + path.encode() + b" <==\n" + data
        if not data.endswith(b"\n"):
            out += b"\n"
    return out


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    (folder / f"seed-{safe}").write_bytes(data)


def yaml_docs(data):
    try:
        return [d for d in yaml.safe_load_all(data) if isinstance(d, dict)]
    except yaml.YAMLError:
        return []


def changed(obj):
    """A plausible live version of an object: server fields added, one value changed."""
    live = json.loads(json.dumps(obj, default=str))
    meta = live.setdefault("metadata", {})
    if isinstance(meta, dict):
        meta.update(
            {
                "uid": "0b7c9f5e-0000-4000-8000-000000000001",
                "resourceVersion": "12345",
                "generation": 3,
                "managedFields": [
                    {
                        "manager": "eksync",
                        "operation": "Apply",
                        "apiVersion": "v1",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:metadata": {"f:labels": {}}},
                    },
                    {
                        "manager": "kubectl-edit",
                        "operation": "Update",
                        "apiVersion": "v1",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:spec": {"f:replicas": {}}},
                    },
                ],
            }
        )
        meta.setdefault("labels", {})
        if isinstance(meta["labels"], dict):
            meta["labels"]["drifted"] = "yes"
    spec = live.get("spec")
    if isinstance(spec, dict) and "replicas" in spec:
        spec["replicas"] = 7
    if "data" in live and isinstance(live["data"], dict):
        for k in list(live["data"])[:1]:
            live["data"][k] = "changed\nline 2\n"
    live["status"] = {"observedGeneration": 3}
    return live


def main():
    ex = files_of(EXAMPLES)
    bad = [(d.name, files_of(d)) for d in sorted(BAD.iterdir()) if d.is_dir() and d.name not in SKIP_BAD] if BAD.is_dir() else []
    eksctl = files_of(EKSCTL) if EKSCTL.is_dir() else []

    # yaml: single files as they are.
    for path, data in ex:
        write("yaml", "example-" + path, data)
    for name, fs in bad:
        for path, data in fs:
            write("yaml", f"bad-{name}-{path}", data)
    for path, data in eksctl:
        write("yaml", "eksctl-" + path, data)

    # analyze / plan_markdown: whole repositories.
    repos = [("example", ex)] + [("bad-" + n, fs) for n, fs in bad if fs]
    repos += [("eksctl-" + p, [("cluster/cluster.yaml", d)]) for p, d in eksctl]
    settings = [(p, d) for p, d in ex if p == "eksync.yaml"]
    repos += [
        ("eksctl-with-settings-" + p, settings + [("cluster/cluster.yaml", d)])
        for p, d in eksctl[:10]
    ]
    for target in ("analyze", "plan_markdown"):
        for name, fs in repos:
            write(target, name, bundle(fs))

    # preview_markdown: the example against edited versions of itself, and added/removed files.
    def edit(fs, f):
        return [(p, f(p, d)) for p, d in fs]

    ex_head = edit(
        ex,
        lambda p, d: d.replace(b"replicas: 1", b"replicas: 3")
        .replace(b"maxSize: 5", b"maxSize: 2")
        .replace(b"desiredCapacity: 2", b"desiredCapacity: 1")
        .replace(b'"Effect": "Allow"', b'"Effect": "Allow", "Resource": "*"'),
    )
    both = [(p, d) for p, d in ex]
    write("preview_markdown", "example-same", bundle(both))
    write(
        "preview_markdown",
        "example-edited",
        bundle([("base:" + p, d) for p, d in ex] + [("head:" + p, d) for p, d in ex_head]),
    )
    for i, (p, d) in enumerate(ex):
        rest = [(q, e) for q, e in ex if q != p]
        write("preview_markdown", f"example-removed-{p}", bundle(rest + [("base:" + p, d)]))
    for p, d in eksctl[:12]:
        write(
            "preview_markdown",
            "eksctl-added-" + p,
            bundle(settings + [("head:cluster/cluster.yaml", d)]),
        )

    # refs: strings with references, taken from the example, and hand-written edge cases.
    refs = set()
    for _, d in ex + eksctl:
        for line in d.decode("utf-8", "replace").splitlines():
            if "{{" in line:
                refs.add(line.strip())
    refs |= {
        "{{aws:region}}",
        "{{ aws:account-id }}",
        "{{!aws:region}} literal",
        "{{aws:cluster/endpoint}}",
        "{{aws:nodegroup/ng/resource/NodeInstanceRole}}",
        "{{aws:nodegroup/ng/min-size}}:{{aws:nodegroup/ng/max-size}}",
        "{{aws:stack/eksctl-c-cluster/output/VPC}}",
        "{{aws:",
        "{{aws:}}",
        "{{not-aws}} {{ {{aws:region}}",
        "héllo {{aws:région}} ✓",
    }
    for r in sorted(refs):
        write("refs", hashlib.sha1(r.encode()).hexdigest()[:12], r.encode())

    # policy_normalize: policy documents as written, pretty and URL-encoded (as IAM returns them).
    policies = [d for p, d in ex if "polic" in p and p.endswith(".json")]
    for name, fs in bad:
        policies += [d for p, d in fs if p.endswith(".json") and b"Statement" in d]
    for i, d in enumerate(policies):
        write("policy_normalize", f"policy-{i}", d)
        write("policy_normalize", f"policy-{i}-urlencoded", urllib.parse.quote(d.decode()).encode())
    write(
        "policy_normalize",
        "minimal",
        b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    )

    # kdiff: (dry-run result, live) pairs from the example's objects; a lone object is a create.
    objects = []
    for p, d in ex:
        if p.startswith("k8s/"):
            objects += yaml_docs(d)
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ci"},
            "data": {"password": "c2VjcmV0", "user": "YWRtaW4="},
        }
    )
    for i, o in enumerate(objects):
        o = json.loads(json.dumps(o, default=str))
        name = f"{o.get('kind', 'x')}-{o.get('metadata', {}).get('name', i)}"
        write("kdiff", f"{i}-{name}-changed", (json.dumps(o) + "\n" + json.dumps(changed(o))).encode())
        if i < 4:
            write("kdiff", f"{i}-{name}-create", json.dumps(o).encode())

    # cfn_diff: (deployed, desired) template pairs from the render snapshots.
    snaps = sorted((ROOT / "crates/eksync-core/src/render/snapshots").glob("*.snap"))
    for s in snaps:
        text = s.read_text()
        body = text.split("---\n", 2)[-1]
        try:
            view = json.loads(body)
        except json.JSONDecodeError:
            continue
        t = view.get("Template") if isinstance(view, dict) else None
        if not isinstance(t, dict):
            continue
        desired = json.loads(json.dumps(t))
        for r in desired.get("Resources", {}).values():
            props = r.get("Properties") if isinstance(r, dict) else None
            if isinstance(props, dict):
                props["Tags"] = [{"Key": "changed", "Value": "yes"}]
                break
        desired.setdefault("Outputs", {})["Added"] = {"Value": {"Ref": "AWS::StackName"}}
        write("cfn_diff", s.stem, (json.dumps(t) + "\n" + json.dumps(desired)).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
