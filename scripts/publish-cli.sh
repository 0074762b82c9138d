#!/usr/bin/env bash
# Publishes the `effnet` CLI for this machine as it is measured in docs/benchmarks.md (*Start-up*): self-contained,
# with the app and the .NET libraries it uses compiled ahead of time into one composite ReadyToRun image. A command
# lives seconds, and a framework-dependent ReadyToRun build still JIT-compiles ~6,000 methods per `effnet run`
# (generic code of the framework instantiated over the app's types cannot be precompiled outside one version bubble):
# composite with tiering off (the .csproj), ~1,000, and the first batch comes ~0.2-0.4 s sooner. With the start-up
# profile (src/EfficientNet.Batch.Cli/startup-methods.txt, turned into a .mibc file that crossgen2 roots) ~270, nearly
# all of them IL stubs and vectorised framework code; the first batch comes ~40-90 ms sooner again.
#
# Usage: scripts/publish-cli.sh [OUT]            (default artifacts/effnet; run OUT/effnet)
#        scripts/publish-cli.sh --framework-dependent [OUT]
#                                                 (ReadyToRun against the shared runtime, as the Dockerfiles publish the
#                                                  hosts; run `dotnet OUT/effnet.dll`)
# The RID is linux-x64 unless EFFNET_RID says otherwise. Takes ~3 minutes (the composite image is ~140 MB).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=composite
if [ "${1:-}" = "--framework-dependent" ]; then MODE=framework-dependent; shift; fi
OUT="${1:-$ROOT/artifacts/effnet}"
RID="${EFFNET_RID:-linux-x64}"

# The two forms compile the same assemblies differently (a composite's components point into effnet.r2r.dll): what
# one left in the RID's intermediate folder must not be copied into the other's output.
rm -rf "$ROOT/src/EfficientNet.Batch.Cli/obj/Release/net10.0/$RID"
case "$MODE" in
  composite)
    # EFFNET_STARTUP_PROFILE=false: without the start-up profile (scripts/startup-profile.sh trains it on such a build).
    dotnet publish "$ROOT/src/EfficientNet.Batch.Cli" -c Release -r "$RID" --self-contained true \
      -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true -p:EffnetStartupProfile="${EFFNET_STARTUP_PROFILE:-true}" \
      -o "$OUT" -v quiet -nologo >&2 ;;
  framework-dependent)
    dotnet publish "$ROOT/src/EfficientNet.Batch.Cli" -c Release -r "$RID" --self-contained false \
      -p:PublishReadyToRun=true -o "$OUT" -v quiet -nologo >&2 ;;
esac
echo "$OUT"
