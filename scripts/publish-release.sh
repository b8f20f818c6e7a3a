#!/usr/bin/env bash
# The tag half of a release, run by .github/workflows/release.yml on a pushed tag vX.Y.Z (RELEASING.md):
#
#   scripts/publish-release.sh check vX.Y.Z     the tag is a release of main: the checked-out commit, on
#                                               origin/main, package.json at X.Y.Z, a CHANGELOG.md section
#   scripts/publish-release.sh notes vX.Y.Z     print the CHANGELOG.md section of X.Y.Z (the release notes)
#   scripts/publish-release.sh publish vX.Y.Z   check again; move the major tag vX to the release when it is
#                                               the newest vX.*.* (a fix of an older line leaves vX alone),
#                                               push vX, and create the GitHub release with those notes
#
# The workflow runs `publish` only after the tests passed and the rebuilt dist/ equalled the tagged one,
# so a failed check leaves vX where it was. Needs git with an `origin`, node, and gh for `publish`.
set -euo pipefail

die() { echo "publish-release: $*" >&2; exit 1; }

command=${1:-}
tag=${2:-}
[[ $command =~ ^(check|notes|publish)$ ]] || die "usage: $0 check|notes|publish vX.Y.Z"
[[ $tag =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] || die "$tag is not a release tag vX.Y.Z (pre-releases are not published here)"
version=${tag#v}
major="v${version%%.*}"

cd "$(git rev-parse --show-toplevel)"

# The lines under "## [X.Y.Z]" up to the next version heading or the link references, without the
# blank lines around them.
notes() {
  awk -v heading="## [$version]" '
    index($0, heading) == 1 { found = 1; next }
    found && (/^## \[/ || /^\[[^]]+\]: /) { exit }
    found { lines[++n] = $0 }
    END {
      first = 1; while (first <= n && lines[first] ~ /^[[:space:]]*$/) first++
      last = n; while (last >= first && lines[last] ~ /^[[:space:]]*$/) last--
      for (i = first; i <= last; i++) print lines[i]
    }' CHANGELOG.md
}

check() {
  local commit
  commit=$(git rev-parse --quiet --verify "refs/tags/$tag^{commit}") || die "there is no tag $tag"
  [[ $(git rev-parse HEAD) == "$commit" ]] || die "the checkout is not $tag: check out the tag first"
  git rev-parse --quiet --verify refs/remotes/origin/main >/dev/null || die "origin/main is not fetched (checkout with fetch-depth: 0)"
  git merge-base --is-ancestor "$commit" refs/remotes/origin/main || die "$tag is not on main: release only what main holds"
  [[ $(node -p 'require("./package.json").version') == "$version" ]] || die "package.json version is not $version"
  [[ -n $(notes) ]] || die "CHANGELOG.md has no section ## [$version], or it is empty"
  echo "publish-release: $tag is a release of main at $(git rev-parse --short "$commit")"
}

# The newest release tag of the major version, by version order (v1.10.0 after v1.9.2).
newest_of_major() {
  git tag --list "$major.*.*" | grep -E '^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$' | sort -V | tail -n 1
}

publish() {
  check
  local commit newest notes_file latest=true
  commit=$(git rev-parse "$tag^{commit}")
  newest=$(newest_of_major)
  if [[ $newest == "$tag" ]]; then
    git tag --force "$major" "$commit"
    git push --force origin "refs/tags/$major"
    echo "publish-release: moved $major to $tag ($(git rev-parse --short "$commit"))"
  else
    latest=false
    echo "::notice::$tag is older than $newest: $major stays at $newest"
  fi

  if gh release view "$tag" >/dev/null 2>&1; then
    echo "publish-release: the release $tag exists already; left as it is"
    return
  fi
  notes_file=$(mktemp)
  notes >"$notes_file"
  gh release create "$tag" --verify-tag --title "$tag" --notes-file "$notes_file" --latest="$latest"
  rm -f "$notes_file"
  echo "publish-release: created the release $tag. To list it in the GitHub Marketplace, edit it and tick the box (RELEASING.md)."
}

case $command in
  check) check ;;
  notes) notes ;;
  publish) publish ;;
esac
