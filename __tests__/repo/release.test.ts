/**
 * scripts/release.sh and scripts/publish-release.sh in a throw-away repository with a local "origin",
 * a stand-in npm that only records what it was asked to run and a stand-in gh that records the
 * release it was asked to create: their guards refuse what they should, release.sh creates vX.Y.Z
 * without touching vX, and publish-release.sh moves vX to the newest release only. No network:
 * origin is a bare repository on disk. .github/workflows/release.yml runs publish-release.sh only
 * after its checks passed.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { parse } from 'yaml'

import { ROOT } from '../../scripts/readme-tables.js'

let dir: string
let repo: string
let env: NodeJS.ProcessEnv

const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim()

function run(script: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync('bash', [script, ...args], { cwd: repo, env, encoding: 'utf8' })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}
const release = (...args: string[]) => run('scripts/release.sh', args)
const publish = (...args: string[]) => run('scripts/publish-release.sh', args)

function commitAll(message: string): void {
  git('add', '-A')
  git('commit', '-q', '-m', message)
  git('push', '-q', 'origin', 'main')
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'packer-sweeper-release-'))
  repo = join(dir, 'work')
  const bin = join(dir, 'bin')
  mkdirSync(join(repo, 'scripts'), { recursive: true })
  mkdirSync(bin)
  // npm stand-in: records the call; "run build" writes dist/index.js from $FAKE_BUILD_OUTPUT when set.
  writeFileSync(
    join(bin, 'npm'),
    '#!/usr/bin/env bash\necho "$*" >> "$NPM_LOG"\nif [ "$*" = "run build" ] && [ -n "${FAKE_BUILD_OUTPUT:-}" ]; then mkdir -p dist; printf %s "$FAKE_BUILD_OUTPUT" > dist/index.js; fi\n'
  )
  chmodSync(join(bin, 'npm'), 0o755)
  // gh stand-in: "release view" finds no release; "release create" records its arguments and notes.
  writeFileSync(
    join(bin, 'gh'),
    '#!/usr/bin/env bash\nif [ "$1 $2" = "release view" ]; then exit 1; fi\necho "$*" >> "$GH_LOG"\nwhile [ $# -gt 0 ]; do if [ "$1" = --notes-file ]; then cat "$2" > "$GH_NOTES"; fi; shift; done\n'
  )
  chmodSync(join(bin, 'gh'), 0o755)
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    NPM_LOG: join(dir, 'npm.log'),
    GH_LOG: join(dir, 'gh.log'),
    GH_NOTES: join(dir, 'notes.md'),
    GIT_AUTHOR_NAME: 'test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1'
  }
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(dir, 'origin.git')], { env })
  execFileSync('git', ['init', '-q', '-b', 'main', repo], { env })
  git('remote', 'add', 'origin', join(dir, 'origin.git'))
  copyFileSync(resolve(ROOT, 'scripts/release.sh'), join(repo, 'scripts/release.sh'))
  copyFileSync(resolve(ROOT, 'scripts/publish-release.sh'), join(repo, 'scripts/publish-release.sh'))
  writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0' }))
  writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [1.0.0] - 2026-01-01\n')
  mkdirSync(join(repo, 'dist'))
  writeFileSync(join(repo, 'dist/index.js'), 'built')
  commitAll('1.0.0')
})

afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('scripts/release.sh', () => {
  it('verifies, then tags and pushes the version, and leaves the major tag to the release workflow', () => {
    expect(release('1.0.0')).toMatchObject({ status: 0 })
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'x', version: '1.1.0' }))
    writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [1.1.0] - 2026-02-01\n\n## [1.0.0] - 2026-01-01\n')
    commitAll('1.1.0')
    const result = release('1.1.0', '--push')
    expect(result).toMatchObject({ status: 0 })
    const head = git('rev-parse', 'HEAD')
    expect(git('rev-parse', 'v1.1.0^{commit}')).toBe(head)
    expect(git('rev-parse', 'v1.0.0^{commit}')).not.toBe(head)
    expect(git('ls-remote', '--tags', 'origin')).toContain('refs/tags/v1.1.0')
    // The major tag moves only in .github/workflows/release.yml, after its checks passed on GitHub.
    expect(git('tag', '--list', 'v1')).toBe('')
    expect(git('ls-remote', 'origin', 'refs/tags/v1')).toBe('')
    const calls = readFileSync(join(dir, 'npm.log'), 'utf8').trim().split('\n').slice(-5)
    expect(calls).toEqual(['ci --no-audit --no-fund', 'run lint', 'run typecheck', 'test', 'run build'])
  })

  it.each([
    ['a version that is not X.Y.Z', ['1.0'], /usage/],
    ['an unknown option', ['1.0.0', '--force'], /unknown option/],
    ['a version without a changelog section', ['1.0.1'], /CHANGELOG\.md has no section/]
  ])('refuses %s', (_what, args, message) => {
    const result = release(...args)
    expect(result.status).toBe(1)
    expect(result.output).toMatch(message)
  })

  it('refuses a dirty tree, another branch, an existing tag and a package.json of another version', () => {
    writeFileSync(join(repo, 'stray.txt'), 'x')
    expect(release('1.0.0').output).toMatch(/not clean/)
    rmSync(join(repo, 'stray.txt'))

    git('checkout', '-q', '-b', 'feature')
    expect(release('1.0.0').output).toMatch(/release from main/)
    git('checkout', '-q', 'main')

    writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [1.0.1]\n\n## [1.0.0] - 2026-01-01\n')
    commitAll('changelog only')
    expect(release('1.0.1').output).toMatch(/package\.json version is not 1\.0\.1/)

    git('tag', 'v1.0.0')
    expect(release('1.0.0').output).toMatch(/v1\.0\.0 already exists/)
  })

  it('refuses to tag when the rebuild changes dist/, and tags nothing', () => {
    env.FAKE_BUILD_OUTPUT = 'built differently'
    const result = release('1.0.0')
    expect(result.status).toBe(1)
    expect(result.output).toMatch(/dist\/ is stale/)
    expect(git('tag', '--list')).toBe('')
  })
})

/** Commits package.json and CHANGELOG.md at a version on the current branch, tags it and pushes both. */
function tagRelease(version: string, sections: Record<string, string>, branch = 'main'): void {
  writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'x', version }))
  const changelog = Object.entries(sections)
    .map(([v, body]) => `## [${v}] - 2026-01-01\n\n${body}\n`)
    .join('\n')
  writeFileSync(join(repo, 'CHANGELOG.md'), `# Changelog\n\n${changelog}\n[${version}]: https://example.com/compare\n`)
  git('add', '-A')
  git('commit', '-q', '-m', version)
  git('tag', '-a', `v${version}`, '-m', `v${version}`)
  git('push', '-q', 'origin', branch, `refs/tags/v${version}`)
}

const checkout = (ref: string): string => git('checkout', '-q', '--detach', ref)
const ghCalls = (): string[] => {
  try {
    return readFileSync(join(dir, 'gh.log'), 'utf8').trim().split('\n')
  } catch {
    return []
  }
}
const remoteTag = (name: string): string => git('ls-remote', 'origin', `refs/tags/${name}`).split('\t')[0] ?? ''

describe('scripts/publish-release.sh (run by .github/workflows/release.yml after its checks)', () => {
  it('moves the major tag to the release, pushes it, and creates the release with its CHANGELOG section as notes', () => {
    tagRelease('1.1.0', { '1.1.0': '### Added\n\n- Second.', '1.0.0': '### Added\n\n- First.' })
    checkout('v1.1.0')
    const result = publish('publish', 'v1.1.0')
    expect(result).toMatchObject({ status: 0 })
    const commit = git('rev-parse', 'v1.1.0^{commit}')
    expect(git('rev-parse', 'v1^{commit}')).toBe(commit)
    expect(remoteTag('v1')).toBe(commit)
    expect(ghCalls()).toEqual([
      expect.stringMatching(/^release create v1\.1\.0 --verify-tag --title v1\.1\.0 --notes-file \S+ --latest=true$/)
    ])
    expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('### Added\n\n- Second.\n')
    expect(result.output).toMatch(/Marketplace/)
  })

  it('leaves the major tag at the newest release when an older version is published', () => {
    tagRelease('1.10.0', { '1.10.0': '- Ten.' })
    checkout('v1.10.0')
    expect(publish('publish', 'v1.10.0')).toMatchObject({ status: 0 })
    const newest = git('rev-parse', 'v1.10.0^{commit}')
    git('checkout', '-q', 'main')
    tagRelease('1.9.2', { '1.9.2': '- A fix of the older line.' })
    checkout('v1.9.2')
    const result = publish('publish', 'v1.9.2')
    expect(result).toMatchObject({ status: 0 })
    expect(result.output).toContain('v1.9.2 is older than v1.10.0: v1 stays at v1.10.0')
    expect(git('rev-parse', 'v1^{commit}')).toBe(newest)
    expect(remoteTag('v1')).toBe(newest)
    expect(ghCalls().at(-1)).toMatch(/^release create v1\.9\.2 .* --latest=false$/)
  })

  it.each([
    ['a version that is not X.Y.Z', 'v1.0', /not a release tag/],
    ['a pre-release', 'v1.2.0-rc.1', /not a release tag/],
    ['a tag that does not exist', 'v9.9.9', /there is no tag v9\.9\.9/]
  ])('refuses %s and moves nothing', (_what, tag, message) => {
    const result = publish('publish', tag)
    expect(result.status).toBe(1)
    expect(result.output).toMatch(message)
    expect(git('tag', '--list', 'v1')).toBe('')
    expect(ghCalls()).toEqual([])
  })

  it('refuses a tag off main, a checkout of another commit, a package.json of another version and an empty section, and moves nothing', () => {
    tagRelease('1.0.1', { '1.0.1': '- Fine.' })
    checkout('v1.0.1')
    expect(publish('publish', 'v1.0.1')).toMatchObject({ status: 0 })
    const released = git('rev-parse', 'v1^{commit}')

    git('checkout', '-q', '-b', 'feature', 'main')
    tagRelease('1.1.0', { '1.1.0': '- Not merged.' }, 'feature')
    checkout('v1.1.0')
    expect(publish('publish', 'v1.1.0').output).toMatch(/v1\.1\.0 is not on main/)

    git('checkout', '-q', 'main')
    tagRelease('1.2.0', { '1.2.0': '- Later.' })
    checkout('v1.0.1')
    expect(publish('publish', 'v1.2.0').output).toMatch(/the checkout is not v1\.2\.0/)

    git('checkout', '-q', 'main')
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'x', version: '1.3.0' }))
    git('commit', '-q', '-am', 'package only')
    git('tag', '-a', 'v1.3.1', '-m', 'v1.3.1')
    git('push', '-q', 'origin', 'main')
    checkout('v1.3.1')
    expect(publish('publish', 'v1.3.1').output).toMatch(/package\.json version is not 1\.3\.1/)

    git('checkout', '-q', 'main')
    tagRelease('1.4.0', { '1.4.0': '' })
    checkout('v1.4.0')
    expect(publish('publish', 'v1.4.0').output).toMatch(/CHANGELOG\.md has no section ## \[1\.4\.0\], or it is empty/)

    expect(git('rev-parse', 'v1^{commit}')).toBe(released)
    expect(remoteTag('v1')).toBe(released)
    expect(ghCalls()).toHaveLength(1)
  })

  it('takes the notes from its own section only, without the blank lines around it or the link references', () => {
    tagRelease('2.0.0', { '2.0.0': '\n### Changed\n\n- Breaking.\n\n', '1.0.0': '- Old.' })
    expect(run('scripts/publish-release.sh', ['notes', 'v2.0.0'])).toEqual({
      status: 0,
      output: '### Changed\n\n- Breaking.\n'
    })
    expect(run('scripts/publish-release.sh', ['notes', 'v1.0.0']).output).toBe('- Old.\n')
  })
})

interface WorkflowStep {
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface WorkflowJob {
  needs?: string[]
  'timeout-minutes'?: number
  permissions?: Record<string, string>
  steps: WorkflowStep[]
}

describe('.github/workflows/release.yml', () => {
  const workflow = parse(readFileSync(resolve(ROOT, '.github/workflows/release.yml'), 'utf8')) as {
    on: unknown
    permissions: Record<string, string>
    jobs: Record<string, WorkflowJob>
  }
  const runs = (job: WorkflowJob | undefined): string[] =>
    (job?.steps ?? []).flatMap((step) => (step.run ? [step.run] : []))
  const { check, dist, release: publishJob } = workflow.jobs

  it('runs on a pushed version tag and nothing else', () => {
    expect(workflow.on).toEqual({ push: { tags: ['v*.*.*'] } })
  })

  it('checks the tag, lints, type-checks and tests, and compares the rebuilt dist/ with the tagged one', () => {
    expect(runs(check)).toEqual(
      expect.arrayContaining([
        'scripts/publish-release.sh check "$TAG"',
        'npm ci',
        'npm run lint',
        'npm run typecheck',
        'npm test'
      ])
    )
    const build = runs(dist).indexOf('npm run build')
    const compare = runs(dist).findIndex(
      (script) => script.includes('git status --porcelain --untracked-files=all -- dist') && script.includes('exit 1')
    )
    expect(build).toBeGreaterThanOrEqual(0)
    expect(compare).toBeGreaterThan(build)
  })

  it('moves the major tag only after every check passed, and only there may it write to the repository', () => {
    expect(publishJob?.needs).toEqual(['check', 'dist'])
    expect(runs(publishJob)).toEqual(['scripts/publish-release.sh publish "$TAG"'])
    expect(workflow.permissions).toEqual({ contents: 'read' })
    expect(publishJob?.permissions).toEqual({ contents: 'write' })
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(`${name}: ${job['timeout-minutes'] ?? 'no timeout'}`).toMatch(/: \d+$/)
      if (job === publishJob) continue
      expect(`${name}: ${JSON.stringify(job.permissions ?? {})}`).toBe(`${name}: {}`)
      expect(
        runs(job).filter((script) => /git push|git tag|publish-release\.sh publish|gh release/.test(script))
      ).toEqual([])
      // Jobs that do not push keep no token in .git/config.
      for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@')))
        expect(step.with?.['persist-credentials']).toBe(false)
    }
  })
})
