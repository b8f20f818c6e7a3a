#!/usr/bin/env bash
# Tag a release: verify the tree, rebuild and check dist/, create the annotated tag vX.Y.Z.
# Usage: scripts/release.sh X.Y.Z [--push]      (see RELEASING.md)
#
# It does not move the major tag vX: pushing vX.Y.Z starts .github/workflows/release.yml, which runs
# the checks again on GitHub and moves vX only when they pass, so a failed check leaves vX where it was.
set -euo pipefail

die() { echo "release: $*" >&2; exit 1; }

version=${1:-}
push=${2:-}
[[ $version =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] || die "usage: $0 X.Y.Z [--push]"
[[ -z $push || $push == --push ]] || die "unknown option $push"
tag="v$version"

cd "$(git rev-parse --show-toplevel)"

[[ $(git rev-parse --abbrev-ref HEAD) == main ]] || die "release from main, not $(git rev-parse --abbrev-ref HEAD)"
[[ -z $(git status --porcelain --untracked-files=all) ]] || die "the working tree is not clean"
git fetch --quiet --force --tags origin main
[[ $(git rev-parse HEAD) == $(git rev-parse origin/main) ]] || die "main differs from origin/main: pull or push first"
! git rev-parse --quiet --verify "refs/tags/$tag" >/dev/null || die "$tag already exists"
grep -q "^## \[$version\]" CHANGELOG.md || die "CHANGELOG.md has no section ## [$version]"
[[ $(node -p 'require("./package.json").version') == "$version" ]] || die "package.json version is not $version"

echo "release: verifying $tag at $(git rev-parse --short HEAD)"
npm ci --no-audit --no-fund
npm run lint
npm run typecheck
npm test
npm run build
if [[ -n $(git status --porcelain --untracked-files=all) ]]; then
  git status --short --untracked-files=all >&2
  die "the rebuild changed the tree (dist/ is stale): commit the rebuilt dist/ and start again"
fi

git tag -a "$tag" -m "packer-sweeper $tag"
echo "release: tagged $tag at $(git rev-parse --short "$tag^{commit}")"

if [[ $push == --push ]]; then
  git push origin "refs/tags/$tag"
  echo "release: pushed $tag; the Release workflow moves the major tag and creates the GitHub release"
else
  echo "push with: git push origin refs/tags/$tag   (the Release workflow then moves the major tag)"
fi
