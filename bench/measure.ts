/**
 * One measured run of the action against the sandbox, shared by every part of `npm run bench`:
 * wall time, peak memory and CPU from a preloaded hook, calls by operation, and the lower bound
 * on calls computed from the sandbox's own account of the run.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { runAction, type RunResult } from '../sandbox/run-action.js'
import type { Sandbox } from '../sandbox/index.js'

export const DESCRIBE_PAGE = 1000
export const ACTION_BATCH = 100
/** SNS refuses a message over 256 KiB: the fewest parts a notification of N bytes can take. */
export const SNS_MESSAGE_MAX_BYTES = 262_144

/** Written at the child's exit by the preload hook. */
export interface ProcessUsage {
  maxRssKiB: number
  userMicros: number
  systemMicros: number
  /** performance.timeOrigin + performance.now() at 'exit': comparable with the bench's own clock. */
  exitAtEpochMs: number
}

/**
 * CommonJS on purpose: `--require` runs it synchronously before the bundle, so it costs the cold
 * start next to nothing, and 'exit' fires also after process.exit() and uncaught errors. With
 * BENCH_PID_FILE set it also tells the bench its process ID, so that the bench can signal the
 * process the way the runner does without changing how the harness spawns it.
 */
export const USAGE_HOOK = `if (process.env.BENCH_PID_FILE) require('node:fs').writeFileSync(process.env.BENCH_PID_FILE, String(process.pid))
process.on('exit', () => {
  const usage = process.resourceUsage()
  require('node:fs').writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({ maxRssKiB: usage.maxRSS, userMicros: usage.userCPUTime, systemMicros: usage.systemCPUTime, exitAtEpochMs: performance.timeOrigin + performance.now() }))
})
`

/**
 * No guard on the bench's runs: on a busy machine a 30,000-instance run takes minutes, and any fixed
 * limit would kill a run that was only slow. The action's own deadlines (`region-timeout`) still
 * end a hung region, and Ctrl-C ends the bench.
 */
export const BENCH_KILL_AFTER = 'never'

export interface Scratch {
  dir: string
  hook: string
}

/** Now, on the clock the preload hook uses in the child. */
export const epochNow = (): number => performance.timeOrigin + performance.now()

export function hookEnv(
  scratch: Scratch,
  extra: Record<string, string> = {}
): { env: Record<string, string>; usageFile: string } {
  const usageFile = join(scratch.dir, 'usage.json')
  rmSync(usageFile, { force: true })
  return { usageFile, env: { NODE_OPTIONS: `--require "${scratch.hook}"`, BENCH_USAGE_FILE: usageFile, ...extra } }
}

export function readUsage(usageFile: string): ProcessUsage | undefined {
  return existsSync(usageFile) ? (JSON.parse(readFileSync(usageFile, 'utf8')) as ProcessUsage) : undefined
}

export interface Sample {
  exitCode: number | null
  wallMs: number
  coldStartMs: number
  peakRssMiB: number
  actionCpuMs: number
  /** CPU the sandbox (this process) spent answering: on 2 cores it competes with the action. */
  sandboxCpuMs: number
  callsByOperation: Record<string, number>
  calls: number
  lowerBound: number
  matching: number
  acted: number
  /** SNS: Publish calls answered, their messages' bytes, and the parts that many bytes need at least. */
  published: number
  publishedBytes: number
  partsNeeded: number
}

export async function measure(
  scratch: Scratch,
  sandbox: Sandbox,
  run: { inputs?: Record<string, string>; dist?: string; regions: readonly string[] }
): Promise<{ sample: Sample; result: RunResult }> {
  const { env, usageFile } = hookEnv(scratch)
  const cpuBefore = process.cpuUsage()
  // runAction spawns before its first await: this is the moment the process starts, to within a millisecond.
  const spawnedAt = performance.now()
  const result = await runAction({ inputs: run.inputs, dist: run.dist, sandbox, env, killAfterMs: BENCH_KILL_AFTER })
  const wallMs = performance.now() - spawnedAt
  const sandboxCpu = process.cpuUsage(cpuBefore)
  const usage = readUsage(usageFile)
  if (!usage) throw new Error(`the process left no usage report (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
  const first = sandbox.calls[0]
  if (!first) throw new Error(`the process sent no request (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
  const bound = lowerBound(sandbox, run.regions)
  return {
    result,
    sample: {
      exitCode: result.exitCode,
      wallMs,
      coldStartMs: first.receivedAt - spawnedAt,
      peakRssMiB: usage.maxRssKiB / 1024,
      actionCpuMs: (usage.userMicros + usage.systemMicros) / 1000,
      // Includes this process's share of spawning and reading the outputs: small next to answering.
      sandboxCpuMs: (sandboxCpu.user + sandboxCpu.system) / 1000,
      callsByOperation: callsByOperation(sandbox),
      calls: sandbox.calls.length,
      ...bound
    }
  }
}

export function callsByOperation(sandbox: Sandbox): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const call of sandbox.calls) counts[call.action] = (counts[call.action] ?? 0) + 1
  return counts
}

/** The instance states `instance-states` counts by default: what DescribeInstances' filter lets through. */
const COUNTED_STATES = new Set(['pending', 'running', 'stopping', 'stopped'])

/** What SNS accepted: Publish calls, the bytes of their messages, and ceil(bytes / 256 KiB). */
export function publishedBytes(sandbox: Sandbox): { published: number; publishedBytes: number; partsNeeded: number } {
  const bytes = sandbox.published.reduce((sum, p) => sum + Buffer.byteLength(p.message), 0)
  return {
    published: sandbox.published.length,
    publishedBytes: bytes,
    partsNeeded: Math.ceil(bytes / SNS_MESSAGE_MAX_BYTES)
  }
}

/**
 * The fewest calls any implementation needs, from the sandbox's own account of the run rather
 * than the action's report (whose lists are cut to fit the output size):
 * matching = Packer builders in a counted state before the run, acted = instances it terminated,
 * and as many Publish calls as the bytes published need 256 KiB messages (one Publish per part).
 */
export function lowerBound(
  sandbox: Sandbox,
  regions: readonly string[]
): {
  lowerBound: number
  matching: number
  acted: number
  published: number
  publishedBytes: number
  partsNeeded: number
} {
  const sns = publishedBytes(sandbox)
  let calls = sns.partsNeeded
  let matching = 0
  let acted = 0
  for (const region of regions) {
    const instances = sandbox.fleet.instances(region)
    const matchingHere = instances.filter(
      (i) => i.keyName?.startsWith('packer_') && COUNTED_STATES.has(i.history[0] ?? i.state)
    ).length
    const actedHere = instances.filter((i) => i.history.includes('shutting-down')).length
    // Even an empty region takes one DescribeInstances to learn that it is empty.
    calls += Math.max(1, Math.ceil(matchingHere / DESCRIBE_PAGE)) + Math.ceil(actedHere / ACTION_BATCH)
    matching += matchingHere
    acted += actedHere
  }
  return { lowerBound: calls, matching, acted, ...sns }
}

export const median = (values: number[]): number => {
  const ordered = [...values].sort((a, b) => a - b)
  const middle = Math.floor(ordered.length / 2)
  return ordered.length % 2 === 1
    ? (ordered[middle] as number)
    : ((ordered[middle - 1] as number) + (ordered[middle] as number)) / 2
}

export function table(rows: string[][], rightAligned = 2): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => (column < rightAligned ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join(' | ')} |`
  return [line(rows[0] ?? []), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join(
    '\n'
  )
}

export const fixed = (n: number, digits = 0): string => n.toFixed(digits)
export const thousands = (n: number): string => n.toLocaleString('en-US')
