/**
 * Runs the committed bundle `dist/index.js` exactly as the GitHub runner runs a JavaScript action:
 * a fresh `node` process, every input of action.yml as `INPUT_<NAME>` with the defaults filled in,
 * GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the run context variables, and a clean environment
 * (nothing of the developer's AWS configuration leaks in). AWS goes to the sandbox.
 *
 * Used by the end-to-end tests (their jest-only helpers are in __tests__/e2e/), `npm run demo` and
 * `npm run bench`.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { Report } from '../src/types.js'
import type { Sandbox } from './index.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The bundle under test; PACKER_SWEEPER_E2E_DIST points at another build (e.g. a scratch ncc output). */
export const DIST = process.env.PACKER_SWEEPER_E2E_DIST ? resolve(process.env.PACKER_SWEEPER_E2E_DIST) : join(ROOT, 'dist/index.js')

export const RUN = { repository: 'octo-org/images', runId: '4242', serverUrl: 'https://github.com', sha: 'a1b2c3d4e5f6', actor: 'octocat' }
export const RUN_URL = `${RUN.serverUrl}/${RUN.repository}/actions/runs/${RUN.runId}`
export const STATIC_KEY_ID = 'AKIAE2ETHROWAWAY0001'

/** Fails loudly (never skips) when the bundle is not built: these tests are about the bundle. */
export function requireDist(): void {
  if (!existsSync(DIST)) {
    throw new Error(`${DIST} does not exist: the end-to-end tests run the committed bundle. Build it with 'npm run build' (and commit dist/).`)
  }
}

interface ActionYml {
  inputs: Record<string, { default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
}

export const ACTION_YML = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionYml

/** The runner's name for an input's variable: upper-cased, spaces to `_`, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

export interface RunOptions {
  /** Overrides of action.yml's defaults, keyed like action.yml. */
  inputs?: Record<string, string>
  /** Extra environment (undefined deletes a variable the harness would set). */
  env?: Record<string, string | undefined>
  sandbox?: Sandbox
  /** AWS_REGION of the job (default us-east-1). */
  region?: string
  /** The script to run instead of DIST (the benchmark's bare baseline bundle). */
  dist?: string
}

export interface RunResult {
  exitCode: number | null
  stdout: string
  stderr: string
  /** GITHUB_OUTPUT parsed. */
  outputs: Record<string, string>
  /** GITHUB_STEP_SUMMARY as written. */
  summary: string
  /** The `report` output parsed, when present and valid JSON. */
  report?: Report
  /** A JSON-array output parsed (sorted as written). */
  list(name: string): string[]
  /** stdout + stderr, for message assertions. */
  log: string
}

/** Parses the GITHUB_OUTPUT file: `name<<DELIMITER` heredocs and `name=value` lines. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string]
      const end = lines.indexOf(delimiter, i + 1)
      if (end < 0) throw new Error(`GITHUB_OUTPUT: no closing delimiter for ${name}`)
      outputs[name] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return outputs
}

/**
 * The Node that runs the bundle: PACKER_SWEEPER_E2E_NODE when set (npm run test:e2e:node24 and
 * demo:node24 set it to the Node 24 from the npm registry, see scripts/node24.mjs), else this Node.
 */
const NODE = process.env.PACKER_SWEEPER_E2E_NODE || process.execPath

/** Runs `node dist/index.js` once and collects everything the runner would see. */
export async function runAction(options: RunOptions = {}): Promise<RunResult> {
  const script = options.dist ?? DIST
  if (!options.dist) requireDist()
  const work = mkdtempSync(join(tmpdir(), 'packer-sweeper-e2e-'))
  const outputFile = join(work, 'output')
  const summaryFile = join(work, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const inputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(ACTION_YML.inputs)) inputs[inputVariable(name)] = spec.default ?? ''
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    if (!(name in ACTION_YML.inputs)) throw new Error(`harness: '${name}' is not an input of action.yml`)
    inputs[inputVariable(name)] = value
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    RUNNER_TEMP: work,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: RUN.repository,
    GITHUB_RUN_ID: RUN.runId,
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: RUN.serverUrl,
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_SHA: RUN.sha,
    GITHUB_ACTOR: RUN.actor,
    GITHUB_WORKFLOW: 'packer-sweeper e2e',
    GITHUB_JOB: 'sweep',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    AWS_REGION: options.region ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: STATIC_KEY_ID,
    AWS_SECRET_ACCESS_KEY: 'e2e-throwaway-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    // No shared config or credentials file of the developer's: point them at nothing.
    AWS_CONFIG_FILE: join(work, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
    ...(options.sandbox ? { AWS_ENDPOINT_URL: options.sandbox.url } : {}),
    ...inputs
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  try {
    const child = spawn(NODE, [script], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // A hang must not wait for jest's timeout silently: kill it and say so.
    const guard = setTimeout(() => child.kill('SIGKILL'), 55_000)
    const exitCode = await new Promise<number | null>((done) => child.on('close', (code) => done(code)))
    clearTimeout(guard)
    const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
    let report: Report | undefined
    try {
      report = outputs.report ? (JSON.parse(outputs.report) as Report) : undefined
    } catch {
      report = undefined
    }
    return {
      exitCode,
      stdout,
      stderr,
      outputs,
      summary: readFileSync(summaryFile, 'utf8'),
      report,
      list: (name) => {
        const raw = outputs[name]
        if (raw === undefined) throw new Error(`output '${name}' was not set.\n--- stdout\n${stdout}\n--- stderr\n${stderr}`)
        return JSON.parse(raw) as string[]
      },
      log: `${stdout}\n${stderr}`
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

export interface TokenServer {
  /** For ACTIONS_ID_TOKEN_REQUEST_URL (already has a query, as GitHub's has). */
  url: string
  /** For ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string
  /** The OIDC token it hands out. */
  idToken: string
  requests: Array<{ audience: string | null; authorization?: string }>
  close(): Promise<void>
}

/** A stand-in for GitHub's OIDC token endpoint, as `core.getIDToken(audience)` calls it. */
export async function startTokenServer(idToken = 'eyJhbGciOiJSUzI1NiJ9.e2e-oidc-token.signature'): Promise<TokenServer> {
  const requestToken = 'e2e-request-token'
  const requests: TokenServer['requests'] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({ audience: url.searchParams.get('audience'), authorization: req.headers.authorization })
    if (req.headers.authorization !== `Bearer ${requestToken}`) {
      res.writeHead(401, { 'content-type': 'application/json' })
      return void res.end('{"message":"bad request token"}')
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ value: idToken }))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/token?api-version=2.0`,
    requestToken,
    idToken,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done()))
  }
}
