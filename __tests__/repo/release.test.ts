/**
 * scripts/release.sh in a throw-away repository with a local "origin" and a stand-in npm that only
 * records what it was asked to run: its guards refuse what they should, and a good release creates
 * vX.Y.Z and moves vX. No network: origin is a bare repository on disk.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { ROOT } from '../../scripts/readme-tables.js'

let dir: string
let repo: string
let env: NodeJS.ProcessEnv

const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim()

function release(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('bash', ['scripts/release.sh', ...args], { cwd: repo, env, encoding: 'utf8' })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

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
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    NPM_LOG: join(dir, 'npm.log'),
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
  writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0' }))
  writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [1.0.0] - 2026-01-01\n')
  mkdirSync(join(repo, 'dist'))
  writeFileSync(join(repo, 'dist/index.js'), 'built')
  commitAll('1.0.0')
})

afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('scripts/release.sh', () => {
  it('verifies, then tags the version and moves the major tag', () => {
    expect(release('1.0.0')).toMatchObject({ status: 0 })
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'x', version: '1.1.0' }))
    writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [1.1.0] - 2026-02-01\n\n## [1.0.0] - 2026-01-01\n')
    commitAll('1.1.0')
    const result = release('1.1.0', '--push')
    expect(result).toMatchObject({ status: 0 })
    const head = git('rev-parse', 'HEAD')
    expect(git('rev-parse', 'v1.1.0^{commit}')).toBe(head)
    expect(git('rev-parse', 'v1^{commit}')).toBe(head)
    expect(git('rev-parse', 'v1.0.0^{commit}')).not.toBe(head)
    expect(git('ls-remote', '--tags', 'origin')).toContain('refs/tags/v1.1.0')
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
