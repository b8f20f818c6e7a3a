/**
 * Runs the committed bundle `dist/index.js` exactly as the GitHub runner runs a JavaScript action:
 * a fresh `node` process, every input of action.yml as `INPUT_<NAME>` with the defaults filled in,
 * GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the run context variables, and a clean environment
 * (nothing of the developer's AWS configuration leaks in). AWS goes to the sandbox.
 *
 * Used by the end-to-end tests (their jest-only helpers are in __tests__/e2e/), `npm run demo` and
 * `npm run bench`. A run is killed after RUN_GUARD_MS unless `killAfterMs` says otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { Report } from '../src/report/types.js'
import type { Sandbox } from './index.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The bundle under test; PACKER_SWEEPER_E2E_DIST points at another build (e.g. a scratch ncc output). */
export const DIST = process.env.PACKER_SWEEPER_E2E_DIST
  ? resolve(process.env.PACKER_SWEEPER_E2E_DIST)
  : join(ROOT, 'dist/index.js')

export const RUN = {
  repository: 'octo-org/images',
  runId: '4242',
  serverUrl: 'https://github.com',
  sha: 'a1b2c3d4e5f6',
  actor: 'octocat'
}
export const RUN_URL = `${RUN.serverUrl}/${RUN.repository}/actions/runs/${RUN.runId}`
export const STATIC_KEY_ID = 'AKIAE2ETHROWAWAY0001'

/** Fails loudly (never skips) when the bundle is not built: these tests are about the bundle. */
export function requireDist(): void {
  if (!existsSync(DIST)) {
    throw new Error(
      `${DIST} does not exist: the end-to-end tests run the committed bundle. Build it with 'npm run build' (and commit dist/).`
    )
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
  /** Cancel the step the way the runner does: SIGINT at a trigger, then SIGTERM and SIGKILL. */
  cancel?: CancelPlan
  /**
   * The guard: SIGKILL the process this long after it started, and say so in its stderr, so that a
   * hung action fails its test with that message instead of waiting for jest's timeout. 'never'
   * lets it run as long as it takes (the benchmark, whose runs grow with the machine's load).
   * Default RUN_GUARD_MS.
   */
  killAfterMs?: number | 'never'
}

/** The guard's default: under jest's 60 s testTimeout (jest.config.js), so the guard fires first. */
export const RUN_GUARD_MS = 55_000

/** The line the guard adds to stderr (and so to `log`) when it killed the process. */
export function guardMessage(killAfterMs: number): string {
  return `killed by the sandbox runner's ${killAfterMs / 1000} s guard (sandbox/run-action.ts, option killAfterMs): the action had not exited`
}

/**
 * GitHub's cancellation of a step (a cancelled run, or timeout-minutes): SIGINT, SIGTERM 7.5 s
 * later, and the process tree killed 2.5 s after that.
 */
export const RUNNER_SIGTERM_AFTER_MS = 7_500
export const RUNNER_KILL_AFTER_SIGTERM_MS = 2_500

export interface CancelPlan {
  /** SIGINT this long after the process started (when `when` is not given, or as a fallback: whichever comes first). */
  afterMs?: number
  /** SIGINT as soon as this returns true (polled every 5 ms), e.g. once the sandbox received N calls. */
  when?: () => boolean
}

export interface CancelTimings {
  /** Signals sent, in order, with the milliseconds after the SIGINT at which each went. */
  sent: Array<{ signal: NodeJS.Signals; atMs: number }>
  /** From the SIGINT to the process's exit, in milliseconds. */
  sigintToExitMs: number
  /** The process ended by a signal (SIGKILL: the runner's kill) rather than by exiting itself. */
  killedBy: NodeJS.Signals | null
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
  /** Size in bytes of the GITHUB_OUTPUT file as written. */
  outputFileBytes: number
  /** The text of the file the `report-file` output names, read before the work directory is removed. */
  reportFileText?: string
  /** When the run was cancelled (`cancel`): the signals sent and how long the process took to end. */
  cancel?: CancelTimings
  /** The guard (`killAfterMs`) killed the process: its stderr ends with guardMessage(). */
  killedByGuard: boolean
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

/** A check every run must pass; one that throws fails the run (the e2e suites check the report and SNS messages with it). */
export type RunCheck = (run: RunResult, sandbox: Sandbox | undefined) => void
const runChecks: RunCheck[] = []

/** Adds a check that `runAction` applies to every run it completes, before returning it. */
export function checkEveryRun(check: RunCheck): void {
  runChecks.push(check)
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
    const killAfterMs = options.killAfterMs ?? RUN_GUARD_MS
    let killedByGuard = false
    const guard =
      killAfterMs === 'never'
        ? undefined
        : setTimeout(() => {
            killedByGuard = true
            child.kill('SIGKILL')
          }, killAfterMs)
    const cancelling = options.cancel ? cancelLikeTheRunner(child, options.cancel) : undefined
    // Awaited after 'close'; until then a rejection must not count as unhandled.
    cancelling?.catch(() => undefined)
    const exitCode = await new Promise<number | null>((done) => child.on('close', (code) => done(code)))
    clearTimeout(guard)
    if (killedByGuard)
      stderr += `${stderr === '' || stderr.endsWith('\n') ? '' : '\n'}${guardMessage(killAfterMs as number)}\n`
    const cancel = await cancelling
    const outputText = readFileSync(outputFile, 'utf8')
    const outputs = parseOutputFile(outputText)
    const reportFile = outputs['report-file']
    const reportFileText = reportFile && existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : undefined
    let report: Report | undefined
    try {
      report = outputs.report ? (JSON.parse(outputs.report) as Report) : undefined
    } catch {
      report = undefined
    }
    const run: RunResult = {
      exitCode,
      stdout,
      stderr,
      outputs,
      summary: readFileSync(summaryFile, 'utf8'),
      report,
      list: (name) => {
        const raw = outputs[name]
        if (raw === undefined)
          throw new Error(`output '${name}' was not set.\n--- stdout\n${stdout}\n--- stderr\n${stderr}`)
        return JSON.parse(raw) as string[]
      },
      log: `${stdout}\n${stderr}`,
      outputFileBytes: Buffer.byteLength(outputText),
      ...(reportFileText === undefined ? {} : { reportFileText }),
      ...(cancel ? { cancel } : {}),
      killedByGuard
    }
    for (const check of runChecks) check(run, options.sandbox)
    return run
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * Sends the runner's cancellation signals to `child`: SIGINT at the plan's trigger, SIGTERM
 * RUNNER_SIGTERM_AFTER_MS later and SIGKILL RUNNER_KILL_AFTER_SIGTERM_MS after that, each only
 * while the process is still running. Resolves once it has exited, with the timings; rejects if
 * the trigger never fired.
 */
function cancelLikeTheRunner(child: ChildProcess, plan: CancelPlan): Promise<CancelTimings> {
  return new Promise((resolveTimings, reject) => {
    const sent: CancelTimings['sent'] = []
    const timers: NodeJS.Timeout[] = []
    let sigintAt: number | undefined
    let exited = false
    const send = (signal: NodeJS.Signals) => {
      if (exited || sigintAt === undefined) return
      sent.push({ signal, atMs: performance.now() - sigintAt })
      child.kill(signal)
    }
    const interrupt = () => {
      if (sigintAt !== undefined || exited) return
      clearInterval(poll)
      sigintAt = performance.now()
      send('SIGINT')
      timers.push(setTimeout(() => send('SIGTERM'), RUNNER_SIGTERM_AFTER_MS))
      timers.push(setTimeout(() => send('SIGKILL'), RUNNER_SIGTERM_AFTER_MS + RUNNER_KILL_AFTER_SIGTERM_MS))
    }
    const poll = setInterval(() => {
      if (plan.when?.()) interrupt()
    }, 5)
    if (plan.afterMs !== undefined) timers.push(setTimeout(interrupt, plan.afterMs))
    child.on('exit', (_code, signal) => {
      const exitAt = performance.now()
      exited = true
      clearInterval(poll)
      for (const timer of timers) clearTimeout(timer)
      if (sigintAt === undefined)
        return reject(new Error('the run ended before the cancellation trigger fired: no SIGINT was sent'))
      resolveTimings({ sent, sigintToExitMs: exitAt - sigintAt, killedBy: signal })
    })
  })
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

export interface TokenServerOptions {
  idToken?: string
  /** Answer every request with this HTTP status and GitHub's error body instead of a token (e.g. 503). */
  status?: number
}

/** A stand-in for GitHub's OIDC token endpoint, as `core.getIDToken(audience)` calls it. */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const idToken = options.idToken ?? 'eyJhbGciOiJSUzI1NiJ9.e2e-oidc-token.signature'
  const requestToken = 'e2e-request-token'
  const requests: TokenServer['requests'] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({ audience: url.searchParams.get('audience'), authorization: req.headers.authorization })
    if (req.headers.authorization !== `Bearer ${requestToken}`) {
      res.writeHead(401, { 'content-type': 'application/json' })
      return void res.end('{"message":"bad request token"}')
    }
    if (options.status !== undefined) {
      res.writeHead(options.status, { 'content-type': 'application/json' })
      return void res.end('{"message":"Service Unavailable"}')
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
