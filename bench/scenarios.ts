/**
 * The scenario measurements of `npm run bench`, beside the fleet matrix in bench.ts:
 *
 * - cancellation: SIGINT mid-sweep, sent as the GitHub runner sends it, to the process's exit;
 * - publish: Publish calls against the parts that the published bytes need at least;
 * - round trips: sequential round trips from the sandbox's requestDelayMs, for an instances-only
 *   sweep of 8 regions and a `resources: all` sweep of 2 regions.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { runAction } from '../sandbox/run-action.js'
import {
  DEFAULT_TOPIC_ARN,
  generateFleet,
  packerName,
  startSandbox,
  type FleetSeed,
  type RegionSeed,
  type Sandbox
} from '../sandbox/index.js'
import {
  BENCH_KILL_AFTER,
  epochNow,
  hookEnv,
  measure,
  median,
  publishedBytes,
  readUsage,
  SNS_MESSAGE_MAX_BYTES,
  type Sample,
  type Scratch
} from './measure.js'

const progress = (mark = '.') => process.stderr.write(mark)

// ---- cancellation ----

/** The GitHub runner cancels a step with SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that. */
export const RUNNER_SIGTERM_AFTER_MS = 7_500
export const RUNNER_SIGKILL_AFTER_MS = 10_000
/** What the action promises (src/run-control.ts): exit within 5 s of the first signal. */
export const CANCEL_TARGET_MS = 5_000

export const CANCEL_SETUP = {
  builders: 2_000,
  /** TerminateInstances held this long: longer than the action's 2 s grace, so the batches in flight are abandoned and read back. */
  terminateDelayMs: 2_500,
  /** The SIGINT goes this long after the sandbox received the first TerminateInstances: mid-batch. */
  signalAfterFirstTerminateMs: 500
}

export interface CancellationRun {
  /** SIGINT sent → the process's stdio closed, as the parent (the runner) sees it. */
  signalToCloseMs: number
  /** SIGINT sent → the process's 'exit' event (from the preload hook; absent if it was killed). */
  signalToExitMs?: number
  exitCode: number | null
  signalsSent: string[]
  outputsWritten: boolean
  outputNames: string[]
  summaryWritten: boolean
  terminateCallsBeforeSignal: number
  terminateCallsAfterSignal: number
  terminated: number
  publishes: number
}

export interface CancellationResult {
  setup: typeof CANCEL_SETUP
  runs: CancellationRun[]
  medianSignalToCloseMs: number
  targetMs: number
  met: boolean
}

async function cancelOnce(scratch: Scratch, action: string, seed: number): Promise<CancellationRun> {
  const region = 'us-east-1'
  const sandbox = await startSandbox({
    fleet: generateFleet({ region, count: CANCEL_SETUP.builders, staleFraction: 1, seed }),
    regions: [region]
  })
  sandbox.faults.slow({ action: 'TerminateInstances', delayMs: CANCEL_SETUP.terminateDelayMs })
  const pidFile = join(scratch.dir, 'pid')
  rmSync(pidFile, { force: true })
  const { env, usageFile } = hookEnv(scratch, { BENCH_PID_FILE: pidFile })
  const inputs = {
    action: 'terminate',
    'max-age': '2h',
    regions: region,
    'max-instances': '0',
    'max-resources': '0',
    'sns-topic-arn': DEFAULT_TOPIC_ARN
  }
  const signalsSent: string[] = []
  const timers: NodeJS.Timeout[] = []
  let exited = false
  let signalAt: number | undefined
  let terminateCallsBeforeSignal = 0
  const send = (pid: number, signal: NodeJS.Signals) => {
    if (exited) return
    try {
      process.kill(pid, signal)
      signalsSent.push(signal)
    } catch {
      // ESRCH: it exited between the check and the kill.
    }
  }
  const watch = setInterval(() => {
    const first = sandbox.callsOf('TerminateInstances')[0]
    if (
      signalAt !== undefined ||
      !first ||
      performance.now() < first.receivedAt + CANCEL_SETUP.signalAfterFirstTerminateMs
    )
      return
    const pid = Number(readFileSync(pidFile, 'utf8'))
    terminateCallsBeforeSignal = sandbox.callsOf('TerminateInstances').length
    signalAt = epochNow()
    send(pid, 'SIGINT')
    timers.push(setTimeout(() => send(pid, 'SIGTERM'), RUNNER_SIGTERM_AFTER_MS))
    timers.push(setTimeout(() => send(pid, 'SIGKILL'), RUNNER_SIGKILL_AFTER_MS))
  }, 5)
  try {
    const result = await runAction({ inputs, dist: action, sandbox, env, killAfterMs: BENCH_KILL_AFTER })
    const closedAt = epochNow()
    exited = true
    if (signalAt === undefined)
      throw new Error(
        `cancellation: the action finished (exit ${result.exitCode}) before the signal; make the fleet larger`
      )
    const usage = readUsage(usageFile)
    return {
      signalToCloseMs: closedAt - signalAt,
      signalToExitMs: usage ? usage.exitAtEpochMs - signalAt : undefined,
      exitCode: result.exitCode,
      signalsSent,
      outputsWritten: Object.keys(result.outputs).length > 0,
      outputNames: Object.keys(result.outputs).sort(),
      summaryWritten: result.summary.trim().length > 0,
      terminateCallsBeforeSignal,
      terminateCallsAfterSignal: sandbox.callsOf('TerminateInstances').length - terminateCallsBeforeSignal,
      terminated: sandbox.fleet.instances(region).filter((i) => i.history.includes('shutting-down')).length,
      publishes: sandbox.callsOf('Publish').length
    }
  } finally {
    exited = true
    clearInterval(watch)
    for (const timer of timers) clearTimeout(timer)
    await sandbox.close()
  }
}

export async function benchCancellation(scratch: Scratch, action: string, runs: number): Promise<CancellationResult> {
  const results: CancellationRun[] = []
  for (let run = 0; run < runs; run++) {
    results.push(await cancelOnce(scratch, action, run + 1))
    progress()
  }
  const medianSignalToCloseMs = median(results.map((r) => r.signalToCloseMs))
  return {
    setup: CANCEL_SETUP,
    runs: results,
    medianSignalToCloseMs,
    targetMs: CANCEL_TARGET_MS,
    met: medianSignalToCloseMs < CANCEL_TARGET_MS && results.every((r) => r.signalToCloseMs < CANCEL_TARGET_MS)
  }
}

// ---- publish count ----

export interface PublishPoint {
  acted: number
  publishes: number
  /** ceil(sum of the published messages' bytes / 262,144): one Publish per part can do no better. */
  partsNeeded: number
  /** `parts` as the published JSON documents declare it. */
  partsDeclared?: number
  publishedBytes: number
  /** The text and ID lists only (verbose findings left out), and ceil(that / 262,144). */
  essentialBytes: number
  partsNeededEssential: number
  largestMessageBytes: number
  overBound: boolean
  wallMs: number
  peakRssMiB: number
  actionCpuMs: number
  calls: number
  lowerBound: number
  callsByOperation: Record<string, number>
}

/**
 * The bytes of what each part must carry: the message with the JSON documents' optional verbose
 * `findings` emptied (the text and the ID lists stay). The action fills every part with findings up
 * to 256 KiB, so ceil(bytes published / 256 KiB) equals the parts almost by construction; this
 * tighter floor shows whether the packing itself wastes parts.
 */
function essentialBytes(sandbox: Sandbox): number {
  let total = 0
  for (const { message } of sandbox.published) {
    try {
      const envelope = JSON.parse(message) as Record<string, string>
      const slim = Object.fromEntries(
        Object.entries(envelope).map(([protocol, body]) => {
          if (protocol === 'default') return [protocol, body]
          const json = JSON.parse(body) as Record<string, unknown>
          const findings = Object.fromEntries(
            Object.keys((json.findings as Record<string, unknown>) ?? {}).map((list) => [list, []])
          )
          return [protocol, JSON.stringify({ ...json, findings, truncated: 0 })]
        })
      )
      total += Buffer.byteLength(JSON.stringify(slim))
    } catch {
      total += Buffer.byteLength(message)
    }
  }
  return total
}

function declaredParts(sandbox: Sandbox): number | undefined {
  const first = sandbox.published[0]
  if (!first) return undefined
  try {
    const envelope = JSON.parse(first.message) as { sqs?: string }
    return envelope.sqs ? (JSON.parse(envelope.sqs) as { parts?: number }).parts : undefined
  } catch {
    return undefined
  }
}

/**
 * `action: terminate` with a topic on one region of `acted` stale builders (all Packer's, all stale):
 * one run a size; `measured` gets each point as soon as it is measured.
 */
export async function benchPublish(
  scratch: Scratch,
  action: string,
  sizes: readonly number[],
  measured: (point: PublishPoint) => void = () => undefined
): Promise<PublishPoint[]> {
  const region = 'us-east-1'
  const points: PublishPoint[] = []
  for (const size of sizes) {
    const sandbox = await startSandbox({
      fleet: generateFleet({ region, count: size, staleFraction: 1, seed: 7 }),
      regions: [region]
    })
    try {
      const inputs = {
        action: 'terminate',
        'max-age': '2h',
        regions: region,
        'max-instances': '0',
        'max-resources': '0',
        'sns-topic-arn': DEFAULT_TOPIC_ARN
      }
      const { sample, result } = await measure(scratch, sandbox, { inputs, dist: action, regions: [region] })
      if (result.exitCode !== 0)
        throw new Error(`publish ${size}: the action failed (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
      const sns = publishedBytes(sandbox)
      const point: PublishPoint = {
        acted: sample.acted,
        publishes: sandbox.callsOf('Publish').length,
        partsNeeded: sns.partsNeeded,
        partsDeclared: declaredParts(sandbox),
        publishedBytes: sns.publishedBytes,
        essentialBytes: essentialBytes(sandbox),
        partsNeededEssential: Math.ceil(essentialBytes(sandbox) / SNS_MESSAGE_MAX_BYTES),
        largestMessageBytes: Math.max(0, ...sandbox.published.map((p) => Buffer.byteLength(p.message))),
        overBound: sandbox.callsOf('Publish').length > sns.partsNeeded,
        wallMs: sample.wallMs,
        peakRssMiB: sample.peakRssMiB,
        actionCpuMs: sample.actionCpuMs,
        calls: sample.calls,
        lowerBound: sample.lowerBound,
        callsByOperation: sample.callsByOperation
      }
      points.push(point)
      measured(point)
    } finally {
      await sandbox.close()
    }
    progress()
  }
  return points
}

// ---- sequential round trips ----

export const ROUND_TRIP_DELAY_MS = 200
const EIGHT_REGIONS = [
  'us-east-1',
  'eu-west-1',
  'ap-southeast-2',
  'sa-east-1',
  'us-west-2',
  'eu-central-1',
  'ap-northeast-1',
  'ca-central-1'
]
const ORPHAN_REGIONS = ['us-east-1', 'eu-west-1']
const PACKER_GROUP = 'Temporary group for Packer'
const H = 3600

/**
 * A region of `resources: all` debris: `builders` stale builders, each holding its key pair and
 * security group (every other one a spot instance from its launch template, as Packer's spot
 * builds are), `leftovers` killed builds' key pairs, groups and templates with no instance, and
 * two live builds whose resources must survive.
 */
export function orphanRegion(region: string, builders: number, leftovers: number): RegionSeed {
  const now = Date.now()
  const tag = region
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 6)
    .padEnd(6, '0')
  const hex = (kind: number, n: number) =>
    `${kind.toString(16)}${Buffer.from(tag).toString('hex').slice(0, 10)}${n.toString(16).padStart(6, '0')}`
  const seed: Required<Pick<RegionSeed, 'instances' | 'keyPairs' | 'securityGroups' | 'launchTemplates'>> = {
    instances: [],
    keyPairs: [],
    securityGroups: [],
    launchTemplates: []
  }
  const build = (n: number, ageSeconds: number, withInstance: boolean) => {
    const name = packerName(ageSeconds, now)
    const groupId = `sg-${hex(1, n)}`
    const spot = n % 2 === 0
    const templateId = spot ? `lt-${hex(2, n)}` : undefined
    seed.keyPairs.push({ keyName: name, ageSeconds })
    seed.securityGroups.push({
      groupId,
      groupName: name,
      description: PACKER_GROUP,
      ingress: [{ fromPort: 22, toPort: 22, cidrs: ['0.0.0.0/0'] }]
    })
    if (templateId)
      seed.launchTemplates.push({
        launchTemplateId: templateId,
        launchTemplateName: `packer-fleet-launch-template-${hex(3, n).slice(-7)}`,
        ageSeconds
      })
    if (withInstance) {
      seed.instances.push({
        ref: `${region}-build-${n}`,
        keyName: name,
        ageSeconds,
        securityGroupIds: [groupId],
        ...(spot ? { lifecycle: 'spot', launchTemplateId: templateId } : {})
      })
    }
  }
  let n = 0
  for (let i = 0; i < builders; i++) build(n++, 5 * H + i * 60, true)
  for (let i = 0; i < leftovers; i++) build(n++, 26 * H + i * 60, false)
  // Live builds: young, everything they use stays.
  for (let i = 0; i < 2; i++) build(n++, 20 * 60 + i * 60, true)
  return seed
}

/**
 * orphanRegion with what cancelled builds leave in EBS: every builder was launched from one public
 * source image and keeps its data volume exactly as the image maps it (DeleteOnTermination=false),
 * and every stale builder made an image that still carries the incomplete tag.
 */
export function ebsRegion(region: string, builders: number, leftovers: number): RegionSeed {
  const seed = orphanRegion(region, builders, leftovers)
  const tag = Buffer.from(
    region
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 6)
      .padEnd(6, '0')
  )
    .toString('hex')
    .slice(0, 10)
  const hex = (kind: number, n: number) => `${kind.toString(16)}${tag}${n.toString(16).padStart(6, '0')}`
  const source = `ami-${hex(8, 0)}`
  const dataSnapshot = `snap-${hex(8, 1)}`
  const owner = '137112412989'
  seed.snapshots = [{ snapshotId: dataSnapshot, volumeSize: 20, ownerId: owner }]
  seed.images = [
    {
      imageId: source,
      name: 'base-image',
      ownerId: owner,
      public: true,
      blockDeviceMappings: [
        { deviceName: '/dev/xvda', size: 8 },
        { deviceName: '/dev/sdf', snapshotId: dataSnapshot, size: 20, deleteOnTermination: false }
      ]
    }
  ]
  ;(seed.instances ?? []).forEach((instance, n) => {
    const id = `i-${hex(9, n)}`
    instance.id = id
    instance.imageId = source
    instance.blockDeviceMappings = [
      { deviceName: '/dev/xvda', size: 8, deleteOnTermination: true },
      { deviceName: '/dev/sdf', snapshotId: dataSnapshot, size: 20, deleteOnTermination: false }
    ]
    if ((instance.ageSeconds ?? 0) > 2 * H)
      seed.images?.push({
        name: `build-${n}`,
        ageSeconds: (instance.ageSeconds ?? 0) - 600,
        sourceInstanceId: id,
        tags: { 'packer-build': 'incomplete' }
      })
  })
  return seed
}

interface RoundTripCase {
  name: string
  fleet: () => FleetSeed
  regions: string[]
  inputs: Record<string, string>
  target: number
}

export interface RoundTripResult {
  name: string
  delayMs: number
  runs: number
  wallMs: { withoutDelay: number; withDelay: number; samplesWithout: number[]; samplesWith: number[] }
  roundTrips: number
  /** Median over the delayed runs of sequentialChain: calls one after another, from the call log. */
  chainedCalls: number
  target: number
  met: boolean
  callsByOperation: Record<string, number>
  /** Per region: DescribeInstances calls, and of them the polls by instance ID after the region's first TerminateInstances answered. */
  describeInstances: Record<string, { total: number; terminationPolls: number; other: number }>
  describeTarget?: { otherPerRegion: number; met: boolean }
}

/**
 * The most calls that ran one after another, none overlapping the next (greedy by earliest
 * answer): with every call held D ms, a cross-check of the wall-time estimate that CPU load on
 * the machine does not move, since it reads the sandbox's own clock of each call.
 */
export function sequentialChain(sandbox: Sandbox): number {
  const spans = sandbox.calls
    .filter((c) => c.answeredAt !== undefined)
    .map((c) => ({ from: c.receivedAt, to: c.answeredAt as number }))
    .sort((a, b) => a.to - b.to)
  let chain = 0
  let end = -Infinity
  for (const span of spans) {
    if (span.from >= end) {
      chain++
      end = span.to
    }
  }
  return chain
}

/**
 * DescribeInstances per region, split into the termination-wait polls and the rest. A poll is any
 * DescribeInstances received after the region's first TerminateInstances answered: by ID when the
 * leftovers waiting are only groups, otherwise a listing of the region's live instances, the last
 * of which is also the recheck of who uses a key or template right before it is deleted.
 */
function describeByRegion(sandbox: Sandbox, regions: readonly string[]): RoundTripResult['describeInstances'] {
  const out: RoundTripResult['describeInstances'] = {}
  for (const region of regions) {
    const calls = sandbox.callsOf('DescribeInstances', region)
    const terminateAnswered = sandbox
      .callsOf('TerminateInstances', region)
      .map((c) => c.answeredAt)
      .filter((t): t is number => t !== undefined)
    const after = terminateAnswered.length > 0 ? Math.min(...terminateAnswered) : Infinity
    const polls = calls.filter((c) => c.receivedAt >= after).length
    out[region] = { total: calls.length, terminationPolls: polls, other: calls.length - polls }
  }
  return out
}

async function roundTripCase(
  scratch: Scratch,
  action: string,
  c: RoundTripCase,
  runs: number,
  delayMs: number,
  describeTarget?: number
): Promise<RoundTripResult> {
  const walls: Record<'0' | 'd', number[]> = { '0': [], d: [] }
  const chains: number[] = []
  let last: { sample: Sample; describe: RoundTripResult['describeInstances'] } | undefined
  for (let run = 0; run < runs; run++) {
    // Interleaved, so that drift in the machine's load falls on both sides alike.
    for (const key of ['0', 'd'] as const) {
      const sandbox = await startSandbox({
        fleet: c.fleet(),
        regions: c.regions,
        requestDelayMs: key === 'd' ? delayMs : 0
      })
      try {
        const { sample, result } = await measure(scratch, sandbox, {
          inputs: c.inputs,
          dist: action,
          regions: c.regions
        })
        if (result.exitCode !== 0)
          throw new Error(`${c.name}: the action failed (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
        walls[key].push(sample.wallMs)
        if (key === '0') last = { sample, describe: describeByRegion(sandbox, c.regions) }
        else chains.push(sequentialChain(sandbox))
      } finally {
        await sandbox.close()
      }
      progress()
    }
  }
  if (!last) throw new Error('no runs')
  const withoutDelay = median(walls['0'])
  const withDelay = median(walls.d)
  const roundTrips = (withDelay - withoutDelay) / delayMs
  const worstOther = Math.max(...Object.values(last.describe).map((d) => d.other))
  return {
    name: c.name,
    delayMs,
    runs,
    wallMs: { withoutDelay, withDelay, samplesWithout: walls['0'], samplesWith: walls.d },
    roundTrips,
    chainedCalls: median(chains),
    target: c.target,
    met: roundTrips <= c.target,
    callsByOperation: last.sample.callsByOperation,
    describeInstances: last.describe,
    ...(describeTarget === undefined
      ? {}
      : { describeTarget: { otherPerRegion: describeTarget, met: worstOther <= describeTarget } })
  }
}

export const ROUND_TRIP_TARGETS = { instances8: 3.5, all2: 6.5, allWithEbs2: 9.5, describePerRegion: 2 }

/** Both round-trip cases; `measured` gets each as soon as it is measured. */
export async function benchRoundTrips(
  scratch: Scratch,
  action: string,
  runs: number,
  measured: (result: RoundTripResult) => void = () => undefined,
  delayMs = ROUND_TRIP_DELAY_MS
): Promise<RoundTripResult[]> {
  const instances: RoundTripCase = {
    name: '(a) instances, terminate, 8 regions',
    regions: EIGHT_REGIONS,
    fleet: () =>
      Object.assign(
        {},
        ...EIGHT_REGIONS.map((region) =>
          generateFleet({ region, count: 100, staleFraction: 0.5, nonPackerFraction: 0.1, seed: 3 })
        )
      ) as FleetSeed,
    inputs: {
      action: 'terminate',
      'max-age': '2h',
      regions: EIGHT_REGIONS.join(','),
      'max-instances': '0',
      'max-resources': '0'
    },
    target: ROUND_TRIP_TARGETS.instances8
  }
  const all: RoundTripCase = {
    name: '(b) resources: all, terminate, 2 regions',
    regions: ORPHAN_REGIONS,
    fleet: () => Object.fromEntries(ORPHAN_REGIONS.map((region) => [region, orphanRegion(region, 20, 5)])),
    inputs: {
      action: 'terminate',
      'max-age': '2h',
      regions: ORPHAN_REGIONS.join(','),
      resources: 'all',
      'max-instances': '0',
      'max-resources': '0'
    },
    target: ROUND_TRIP_TARGETS.all2
  }
  const ebs: RoundTripCase = {
    name: '(c) resources: all with interrupted images and inherited volumes, terminate, 2 regions',
    regions: ORPHAN_REGIONS,
    fleet: () => Object.fromEntries(ORPHAN_REGIONS.map((region) => [region, ebsRegion(region, 20, 5)])),
    inputs: {
      ...all.inputs,
      'image-incomplete-tag': 'packer-build=incomplete',
      'delete-inherited-volumes': 'true'
    },
    target: ROUND_TRIP_TARGETS.allWithEbs2
  }
  process.stderr.write(`${instances.name} `)
  const a = await roundTripCase(scratch, action, instances, runs, delayMs)
  measured(a)
  process.stderr.write(`\n${all.name} `)
  const b = await roundTripCase(scratch, action, all, runs, delayMs, ROUND_TRIP_TARGETS.describePerRegion)
  measured(b)
  process.stderr.write(`\n${ebs.name} `)
  const c = await roundTripCase(scratch, action, ebs, runs, delayMs, ROUND_TRIP_TARGETS.describePerRegion)
  measured(c)
  return [a, b, c]
}
