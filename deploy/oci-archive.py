#!/usr/bin/env python3
"""Writes a one-layer OCI image archive (the layout `ctr images import`, `podman load` and
`skopeo copy oci-archive:` read) from files on disk, without a container engine.

  oci-archive.py --out FILE --name NAME:TAG [--name ...] --user UID:GID --entrypoint PATH
                 [--expose PORT] [--label KEY=VALUE ...] [--env KEY=VALUE ...] SRC=DEST [...]

Each SRC=DEST puts the file SRC at DEST in the image (regular files only; parent directories
are added). The layer is reproducible: entries are sorted, owned by 0:0 and dated at
SOURCE_DATE_EPOCH (default 0), so the same inputs give the same digests.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def normalized(name):
    """The name containerd's CRI looks images up by: docker.io/library/x:tag for x:tag."""
    path, _, tag = name.rpartition(":")
    if not path or "/" in tag:
        raise SystemExit(f"oci-archive: image name {name!r} needs a :tag")
    first = path.split("/")[0]
    if "/" not in path:
        path = f"docker.io/library/{path}"
    elif "." not in first and ":" not in first and first != "localhost":
        path = f"docker.io/{path}"
    return f"{path}:{tag}", tag


def layer_tar(files, mtime):
    """Uncompressed tar bytes of the files and their parent directories."""
    entries = {}
    for src, dest in files:
        dest = dest.strip("/")
        if not os.path.isfile(src):
            raise SystemExit(f"oci-archive: {src} is not a regular file")
        parts = dest.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]), None)
        entries[dest] = src
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            src = entries[path]
            info = tarfile.TarInfo(path if src else path + "/")
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if src is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            # Executable bits are kept; nothing is writable by others.
            mode = os.stat(src).st_mode
            info.mode = 0o755 if mode & stat.S_IXUSR else 0o644
            info.size = os.path.getsize(src)
            with open(src, "rb") as f:
                tar.addfile(info, f)
    return buf.getvalue()


def blob(store, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--name", action="append", required=True, help="NAME:TAG, may repeat")
    p.add_argument("--user", required=True)
    p.add_argument("--entrypoint", required=True)
    p.add_argument("--expose", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--env", action="append", default=[])
    p.add_argument("files", nargs="+", metavar="SRC=DEST")
    args = p.parse_args()

    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    created = datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    files = [tuple(f.split("=", 1)) for f in args.files]
    if any(len(f) != 2 for f in files):
        raise SystemExit("oci-archive: files are given as SRC=DEST")

    blobs = {}
    tar = layer_tar(files, mtime)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    # mtime=0 and no file name keep the gzip header, and so the digest, reproducible.
    layer = blob(blobs, gzip.compress(tar, compresslevel=6, mtime=0), LAYER)
    labels = dict(kv.split("=", 1) for kv in args.label)
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": args.user,
            "Entrypoint": [args.entrypoint],
            "Env": args.env,
            "ExposedPorts": {f"{port}/tcp": {} for port in args.expose},
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": "deploy/oci-archive.py " + " ".join(d for _, d in files)}],
    }
    config_desc = blob(blobs, json.dumps(config, sort_keys=True).encode(), CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc, "layers": [layer]}
    manifest_desc = blob(blobs, json.dumps(manifest, sort_keys=True).encode(), MANIFEST)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    for name in args.name:
        full, tag = normalized(name)
        index["manifests"].append(
            dict(manifest_desc, annotations={"io.containerd.image.name": full, "org.opencontainers.image.ref.name": tag})
        )

    tmp = args.out + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as out:

        def add(path, data):
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            out.addfile(info, io.BytesIO(data))

        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index, sort_keys=True).encode())
        for digest, data in sorted(blobs.items()):
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    os.replace(tmp, args.out)
    print(f"{args.out}: {manifest_desc['digest']} ({', '.join(args.name)})", file=sys.stderr)


if __name__ == "__main__":
    main()
