/**
 * `npm run bench`: the committed bundle dist/index.js against the sandbox AWS account.
 *
 * The fleet matrix (`matrix`): fleets of 100, 1,000 and 10,000 instances per region in 1 and 4
 * regions, `action: terminate` with no caps and an SNS topic. Per point, the median of a few runs of:
 *
 * - wall time: spawn of `node dist/index.js` to its exit, as the runner's step would see it;
 * - API calls by operation, from the sandbox's calls log, against the lower bound (per region
 *   ceil(matching/1000) DescribeInstances + ceil(acted/100) TerminateInstances, + one Publish per
 *   256 KiB part: ceil(bytes published / 262,144));
 * - peak memory of the action's process: `process.resourceUsage().maxRSS` written at exit by a
 *   preloaded `--require` hook (works wherever node does, unlike GNU time), with its CPU time;
 * - cold start: spawn to the first request the sandbox receives, compared with a bare ncc bundle
 *   of @actions/core + the EC2/SNS/STS clients sending one request (bench/cold-start-baseline.ts).
 *
 * Then the scenarios of bench/scenarios.ts: SIGINT mid-sweep to exit (`cancel`), Publish calls
 * against the parts needed at 100 to 30,000 terminated instances (`publish`), and sequential round
 * trips from the sandbox's requestDelayMs (`roundtrips`).
 *
 * Not part of the test suite: it asserts nothing. Each table is printed as soon as its section is
 * measured and appended to bench/results/latest.md at once; bench/results/latest.json is rewritten
 * after every point. A section that fails is reported and the others still run. No fixed time
 * limit kills a run (a busy machine only makes it slower); the last line prints the time taken,
 * in total and per section: 1,422 s (matrix 759, cancel 41, publish 343, round trips 278) on
 * 2 cores shared with other jobs, load average 10 to 20 (2026-12-05).
 *
 *   npm run bench                                   everything, 3 runs a point
 *   npm run bench -- --sizes=100,1000 --runs=1      a quick look (also BENCH_SIZES, BENCH_REGIONS, BENCH_RUNS)
 *   npm run bench -- --only=cancel,roundtrips       some sections: matrix, cancel, publish, roundtrips (BENCH_ONLY)
 *   npm run bench -- --publish-sizes=100,1000       the publish section's sizes (BENCH_PUBLISH_SIZES)
 */
import { spawnSync } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { createHash } from 'node:crypto'
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, relative } from 'node:path'
import ts from 'typescript'
import { DIST, ROOT } from '../sandbox/run-action.js'
import { DEFAULT_TOPIC_ARN, generateFleet, startSandbox, type FleetSeed } from '../sandbox/index.js'
import {
  benchCancellation,
  benchPublish,
  benchRoundTrips,
  RUNNER_SIGKILL_AFTER_MS,
  RUNNER_SIGTERM_AFTER_MS,
  type CancellationResult,
  type PublishPoint,
  type RoundTripResult
} from './scenarios.js'
import { fixed, measure, median, table, thousands, USAGE_HOOK, type Sample, type Scratch } from './measure.js'

/** Enough regions for the widest point; the first one is the topic's (us-east-1). */
const BENCH_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1']
const RESULTS_DIR = join(ROOT, 'bench/results')

const SECTIONS = ['matrix', 'cancel', 'publish', 'roundtrips'] as const
type Section = (typeof SECTIONS)[number]

interface BenchOptions {
  sections: Section[]
  sizes: number[]
  publishSizes: number[]
  roundTripRuns: number
  regionCounts: number[]
  runs: number
  baselineRuns: number
  rebuildBaseline: boolean
}

function parseOptions(argv: string[]): BenchOptions {
  const flag = (name: string, envName: string, fallback: string): string => {
    const given = argv.find((arg) => arg.startsWith(`--${name}=`))
    return given ? given.slice(name.length + 3) : (process.env[envName] ?? fallback)
  }
  const numbers = (text: string, what: string): number[] => {
    const list = text.split(',').map((part) => Number(part.replace(/_/g, '')))
    if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(`--${what}: expected positive integers separated by commas, got '${text}'`)
    return list
  }
  const regionCounts = numbers(flag('regions', 'BENCH_REGIONS', '1,4'), 'regions')
  if (regionCounts.some((n) => n > BENCH_REGIONS.length)) throw new Error(`--regions: at most ${BENCH_REGIONS.length}`)
  const [runs = 3] = numbers(flag('runs', 'BENCH_RUNS', '3'), 'runs')
  const sections = flag('only', 'BENCH_ONLY', SECTIONS.join(',')).split(',') as Section[]
  const unknown = sections.filter((section) => !SECTIONS.includes(section))
  if (unknown.length > 0)
    throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; expected some of ${SECTIONS.join(',')}`)
  return {
    sections,
    sizes: numbers(flag('sizes', 'BENCH_SIZES', '100,1000,10000'), 'sizes'),
    publishSizes: numbers(flag('publish-sizes', 'BENCH_PUBLISH_SIZES', '100,1000,10000,30000'), 'publish-sizes'),
    // Differences of wall times are noisier than wall times: two more runs than a matrix point.
    roundTripRuns: runs + 2,
    regionCounts,
    runs,
    // Cold starts are short and noisy: the baseline gets more runs than a fleet point.
    baselineRuns: Math.max(5, runs * 2),
    rebuildBaseline: argv.includes('--rebuild-baseline')
  }
}

// ---- the matrix ----

function benchFleet(size: number, regions: string[], seed: number): FleetSeed {
  // One in ten instances is not Packer's (server-side filtering must drop it); half the builders are stale.
  return Object.assign(
    {},
    ...regions.map((region) => generateFleet({ region, count: size, staleFraction: 0.5, nonPackerFraction: 0.1, seed }))
  )
}

interface Point {
  instancesPerRegion: number
  regions: number
  runs: number
  wallMs: number
  coldStartMs: number
  peakRssMiB: number
  actionCpuMs: number
  sandboxCpuMs: number
  calls: number
  lowerBound: number
  callsRatio: number
  callsByOperation: Record<string, number>
  matching: number
  acted: number
  samples: Sample[]
}

function summarize(size: number, regions: number, samples: Sample[]): Point {
  const of = (pick: (sample: Sample) => number) => median(samples.map(pick))
  // Calls do not vary between runs of the same fleet unless something retried: show the worst run's.
  const worst = samples.reduce((a, b) => (b.calls > a.calls ? b : a))
  return {
    instancesPerRegion: size,
    regions,
    runs: samples.length,
    wallMs: of((s) => s.wallMs),
    coldStartMs: of((s) => s.coldStartMs),
    peakRssMiB: of((s) => s.peakRssMiB),
    actionCpuMs: of((s) => s.actionCpuMs),
    sandboxCpuMs: of((s) => s.sandboxCpuMs),
    calls: worst.calls,
    lowerBound: worst.lowerBound,
    callsRatio: worst.calls / worst.lowerBound,
    callsByOperation: worst.callsByOperation,
    matching: worst.matching,
    acted: worst.acted,
    samples
  }
}

async function benchPoint(
  scratch: Scratch,
  action: string,
  size: number,
  regionCount: number,
  runs: number
): Promise<Point> {
  const regions = BENCH_REGIONS.slice(0, regionCount)
  const inputs = {
    action: 'terminate',
    'max-age': '2h',
    regions: regions.join(','),
    'max-instances': '0',
    'max-resources': '0',
    'sns-topic-arn': DEFAULT_TOPIC_ARN
  }
  const samples: Sample[] = []
  for (let run = 0; run < runs; run++) {
    // A fresh account per run: the previous run terminated half of it.
    const sandbox = await startSandbox({ fleet: benchFleet(size, regions, run + 1), regions })
    try {
      const { sample, result } = await measure(scratch, sandbox, { inputs, dist: action, regions })
      if (result.exitCode !== 0)
        throw new Error(
          `${size}×${regionCount}: the action failed (exit ${result.exitCode}):\n${result.log.slice(-2000)}`
        )
      samples.push(sample)
    } finally {
      await sandbox.close()
    }
    process.stderr.write('.')
  }
  return summarize(size, regionCount, samples)
}

// ---- the bundles ----

/**
 * A private copy of the action's bundle folder (index.js loads its chunks from beside it): a
 * `npm run build` started meanwhile empties dist/ first and must not break a run half-way.
 */
function copyActionBundle(scratch: Scratch): string {
  const copy = join(scratch.dir, 'action-dist')
  cpSync(dirname(DIST), copy, { recursive: true })
  return join(copy, basename(DIST))
}

function findBundle(folder: string): string | undefined {
  const bundle = existsSync(folder) ? readdirSync(folder).find((file) => /^index\.m?js$/.test(file)) : undefined
  return bundle ? join(folder, bundle) : undefined
}

/**
 * Transpiles bench/cold-start-baseline.ts to .mjs and bundles it as `npm run build` bundles the
 * action (ncc --minify). Minifying the SDK takes ncc about a minute on 2 cores, so the bundle is
 * kept in bench/results/ under a hash of everything that shapes it; --rebuild-baseline forces a build.
 */
function buildBaseline(rebuild: boolean): { bundle: string; cached: boolean } {
  const source = readFileSync(join(ROOT, 'bench/cold-start-baseline.ts'), 'utf8')
  const require = createRequire(import.meta.url)
  const ncc = require.resolve('@vercel/ncc/dist/ncc/cli.js')
  const key = createHash('sha256')
    .update(source)
    .update(readFileSync(join(ROOT, 'package-lock.json')))
    .update(readFileSync(ncc))
    .digest('hex')
    .slice(0, 16)
  const folder = join(RESULTS_DIR, `baseline-${key}`)
  const cached = findBundle(folder)
  if (cached && !rebuild) return { bundle: cached, cached: true }
  rmSync(folder, { recursive: true, force: true })
  mkdirSync(folder, { recursive: true })
  // Inside the repository, so that ncc resolves node_modules; bench/results/ is git-ignored.
  const entry = join(folder, 'entry.mjs')
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
  })
  writeFileSync(entry, outputText)
  const out = join(folder, 'dist')
  const built = spawnSync(process.execPath, [ncc, 'build', entry, '-o', out, '--minify', '--quiet'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
  if (built.status !== 0) throw new Error(`ncc could not build the baseline:\n${built.stderr}${built.stdout}`)
  const bundle = findBundle(out)
  if (!bundle) throw new Error(`ncc wrote no index.js/index.mjs into ${out}`)
  return { bundle, cached: false }
}

interface Baseline {
  bundle: string
  bundleBytes: number
  coldStartMs: number
  peakRssMiB: number
  samples: number[]
}

async function benchBaseline(scratch: Scratch, bundle: string, runs: number): Promise<Baseline> {
  const sandbox = await startSandbox({ regions: ['us-east-1'] })
  const samples: Sample[] = []
  try {
    for (let run = 0; run < runs; run++) {
      sandbox.calls.length = 0
      const { sample } = await measure(scratch, sandbox, { dist: bundle, regions: [] })
      if (sample.exitCode !== 0) throw new Error(`the baseline bundle failed (exit ${sample.exitCode})`)
      samples.push(sample)
      process.stderr.write('.')
    }
  } finally {
    await sandbox.close()
  }
  return {
    bundle: relative(ROOT, bundle),
    bundleBytes: readFileSync(bundle).length,
    coldStartMs: median(samples.map((s) => s.coldStartMs)),
    peakRssMiB: median(samples.map((s) => s.peakRssMiB)),
    samples: samples.map((s) => s.coldStartMs)
  }
}

// ---- report ----

/** Which bundle was measured: the last commit of dist/ and whether the working tree differs from it. */
function distVersion(): { commit?: string; uncommittedChanges?: boolean } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' })
  const log = git('log', '-1', '--format=%h', '--', relative(ROOT, dirname(DIST)))
  if (log.status !== 0) return {}
  return {
    commit: log.stdout.trim(),
    uncommittedChanges: git('status', '--porcelain', '--', relative(ROOT, dirname(DIST))).stdout.trim() !== ''
  }
}

function pointsTable(points: Point[]): string {
  const operations = [...new Set(points.flatMap((p) => Object.keys(p.callsByOperation)))].sort()
  const header = [
    'instances/region',
    'regions',
    'wall (s)',
    'calls / lower bound',
    ...operations,
    'peak RSS (MiB)',
    'action CPU (s)',
    'sandbox CPU (s)',
    'cold start (ms)'
  ]
  const rows = points.map((p) => [
    thousands(p.instancesPerRegion),
    String(p.regions),
    fixed(p.wallMs / 1000, 2),
    `${p.calls} / ${p.lowerBound} = ${fixed(p.callsRatio, 2)}`,
    ...operations.map((op) => String(p.callsByOperation[op] ?? 0)),
    fixed(p.peakRssMiB),
    fixed(p.actionCpuMs / 1000, 2),
    fixed(p.sandboxCpuMs / 1000, 2),
    fixed(p.coldStartMs)
  ])
  return table([header, ...rows])
}

function wallRatios(
  points: Point[],
  regionCounts: number[]
): Array<{ instancesPerRegion: number; regions: number; ratio: number }> {
  const widest = Math.max(...regionCounts)
  const narrowest = Math.min(...regionCounts)
  if (widest === narrowest) return []
  return points
    .filter((p) => p.regions === widest)
    .flatMap((wide) => {
      const narrow = points.find((p) => p.regions === narrowest && p.instancesPerRegion === wide.instancesPerRegion)
      return narrow
        ? [{ instancesPerRegion: wide.instancesPerRegion, regions: widest, ratio: wide.wallMs / narrow.wallMs }]
        : []
    })
}

function cancellationReport(c: CancellationResult): string {
  const rows = c.runs.map((r, n) => [
    String(n + 1),
    fixed(r.signalToCloseMs / 1000, 2),
    r.signalToExitMs === undefined ? 'killed' : fixed(r.signalToExitMs / 1000, 2),
    String(r.exitCode),
    r.signalsSent.join(', '),
    r.outputsWritten ? `yes (${r.outputNames.length})` : 'NO',
    r.summaryWritten ? 'yes' : 'NO',
    `${r.terminateCallsBeforeSignal} + ${r.terminateCallsAfterSignal}`,
    thousands(r.terminated),
    String(r.publishes)
  ])
  const nonZero = c.runs.every((r) => r.exitCode !== 0 && r.exitCode !== null)
  const written = c.runs.every((r) => r.outputsWritten && r.summaryWritten)
  return [
    `SIGINT → exit: ${thousands(c.setup.builders)} stale builders in us-east-1, action terminate, max-instances 0, SNS topic, TerminateInstances held ${c.setup.terminateDelayMs} ms;` +
      ` SIGINT ${c.setup.signalAfterFirstTerminateMs} ms after the first TerminateInstances arrived, then SIGTERM at +${RUNNER_SIGTERM_AFTER_MS / 1000} s and SIGKILL at +${RUNNER_SIGKILL_AFTER_MS / 1000} s if still alive (the runner's sequence)`,
    '',
    table(
      [
        [
          'run',
          'SIGINT → close (s)',
          'SIGINT → exit event (s)',
          'exit code',
          'signals sent',
          'outputs written',
          'summary written',
          'TerminateInstances before + after SIGINT',
          'terminated',
          'Publish'
        ],
        ...rows
      ],
      1
    ),
    '',
    `median SIGINT → exit ${fixed(c.medianSignalToCloseMs / 1000, 2)} s (target < ${c.targetMs / 1000} s: ${c.met ? 'met' : 'NOT MET'}); exit code non-zero in every run: ${nonZero ? 'yes' : 'NO'}; outputs and summary written in every run: ${written ? 'yes' : 'NO'}`
  ].join('\n')
}

function publishReport(points: PublishPoint[]): string {
  const rows = points.map((p) => [
    thousands(p.acted),
    String(p.publishes),
    String(p.partsNeeded),
    p.partsDeclared === undefined ? '-' : String(p.partsDeclared),
    thousands(p.publishedBytes),
    thousands(p.largestMessageBytes),
    `${p.partsNeededEssential} (${thousands(p.essentialBytes)} B)`,
    p.overBound ? `YES (+${p.publishes - p.partsNeeded})` : 'no',
    fixed(p.wallMs / 1000, 2),
    fixed(p.peakRssMiB),
    fixed(p.actionCpuMs / 1000, 2),
    `${p.calls} / ${p.lowerBound} = ${fixed(p.calls / p.lowerBound, 2)}`
  ])
  return [
    'Publish calls: action terminate, SNS topic, one region, every instance a stale builder; one run a size',
    '',
    table([
      [
        'terminated',
        'Publish calls',
        'parts needed = ceil(bytes / 262,144)',
        'parts declared',
        'bytes published',
        'largest message',
        'parts for text + IDs only',
        'calls > parts needed',
        'wall (s)',
        'peak RSS (MiB)',
        'action CPU (s)',
        'all calls / lower bound'
      ],
      ...rows
    ])
  ].join('\n')
}

/**
 * On a machine busier than its cores, the action waits for CPU as well as for the held requests,
 * and the wall-time difference stops measuring round trips: say so next to the table.
 */
function busyNote(): string {
  const [load = 0] = loadavg()
  if (load <= cpus().length) return ''
  return `\n\nLoad average ${fixed(load, 1)} on ${cpus().length} cores: the wall times, and the round trips computed from them, measure the wait for CPU too; the call log's count of calls one after another does not.`
}

function roundTripReport(results: RoundTripResult[]): string {
  const rows = results.map((r) => [
    r.name,
    fixed(r.wallMs.withoutDelay / 1000, 2),
    fixed(r.wallMs.withDelay / 1000, 2),
    fixed(r.roundTrips, 2),
    String(r.chainedCalls),
    `≤ ${r.target}: ${r.met ? 'met' : 'NOT MET'}`,
    Object.entries(r.callsByOperation)
      .sort()
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')
  ])
  const lines = [
    `Sequential round trips = (wall with every request held ${results[0]?.delayMs ?? 0} ms − wall without) / ${results[0]?.delayMs ?? 0} ms, medians of ${results[0]?.runs ?? 0} runs each, no SNS topic`,
    '',
    table(
      [
        [
          'sweep',
          'wall, no delay (s)',
          'wall, delay (s)',
          'round trips',
          'calls one after another (call log)',
          'target',
          'calls (one run)'
        ],
        ...rows
      ],
      0
    )
  ]
  for (const r of results.filter((x) => x.describeTarget)) {
    const perRegion = Object.entries(r.describeInstances).map(
      ([region, d]) =>
        `${region} ${d.total} = ${d.other} + ${d.terminationPolls} termination-wait poll(s), the last of them also the recheck before deleting`
    )
    lines.push(
      '',
      `${r.name}: DescribeInstances per region: ${perRegion.join('; ')} (target ≤ ${r.describeTarget?.otherPerRegion} + polls: ${r.describeTarget?.met ? 'met' : 'NOT MET'})`
    )
  }
  return lines.join('\n')
}

/**
 * The results so far, on disk as soon as they are measured: bench/results/latest.json is rewritten
 * after every point and section (`finished: false` until the end), and every table printed to
 * stdout is appended to bench/results/latest.md at the same moment. A run that dies half-way
 * (a crash, Ctrl-C, a machine gone) keeps every table it had finished.
 */
class ResultsFiles {
  readonly json = join(RESULTS_DIR, 'latest.json')
  readonly text = join(RESULTS_DIR, 'latest.md')
  constructor(private readonly results: Record<string, unknown>) {
    writeFileSync(this.text, '')
    this.save()
  }
  save(): void {
    writeFileSync(this.json, `${JSON.stringify(this.results, null, 2)}\n`)
  }
  /** A list under `key` of the results, saved each time an item is added. */
  collect<T>(key: string): { items: T[]; add: (item: T) => void } {
    const items: T[] = []
    this.results[key] = items
    this.save()
    return {
      items,
      add: (item) => {
        items.push(item)
        this.save()
      }
    }
  }
  /** Prints `text` and appends it to latest.md; then saves the JSON. */
  print(text = ''): void {
    console.log(text)
    appendFileSync(this.text, `${text}\n`)
    this.save()
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const runs = (section: Section) => options.sections.includes(section)
  if (!existsSync(DIST))
    throw new Error(
      `${relative(ROOT, DIST)} is missing: the benchmark measures the bundle. Build it with 'npm run build'.`
    )
  mkdirSync(RESULTS_DIR, { recursive: true })
  // Inside the repository, so that ncc resolves node_modules; bench/results/ is git-ignored.
  const dir = mkdtempSync(join(RESULTS_DIR, 'scratch-'))
  const scratch: Scratch = { dir, hook: join(dir, 'usage-hook.cjs') }
  writeFileSync(scratch.hook, USAGE_HOOK)
  const started = Date.now()
  const seconds = (since: number) => (Date.now() - since) / 1000
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2)))
  }
  const results: Record<string, unknown> & { sectionSeconds: Record<string, number>; errors: string[] } = {
    date: new Date().toISOString(),
    finished: false,
    command: `npm run bench -- --only=${options.sections.join(',')} --sizes=${options.sizes.join(',')} --regions=${options.regionCounts.join(',')} --publish-sizes=${options.publishSizes.join(',')} --runs=${options.runs}`,
    machine,
    dist: { path: relative(ROOT, DIST), ...distVersion() },
    method: {
      fleet: 'generateFleet per region: 10% non-Packer, half of the builders stale (max-age 2h), all running',
      inputs: 'action: terminate, max-age: 2h, max-instances: 0, max-resources: 0, sns-topic-arn set, regions listed',
      wall: 'spawn of node dist/index.js to exit, median of runs',
      memory: 'process.resourceUsage().maxRSS of the action process, written at exit by a --require hook',
      coldStart: 'spawn to the first request received by the sandbox',
      lowerBound:
        'per region max(1, ceil(matching/1000)) DescribeInstances + ceil(terminated/100) TerminateInstances, + ceil(bytes published / 262,144) Publish (one Publish per 256 KiB part); matching, terminated and bytes counted in the sandbox',
      cancellation:
        'SIGINT as the runner sends it (then SIGTERM at +7.5 s, SIGKILL at +10 s), from the bench process to the PID the preload hook reports; SIGINT → the parent sees stdio close',
      publish:
        'Publish calls received by the sandbox next to ceil(sum of the published messages’ UTF-8 bytes / 262,144)',
      roundTrips:
        'sandbox requestDelayMs = D holds every request D ms (concurrently): (median wall with D − median wall without) / D',
      guard: 'none: the runs are not killed after a fixed time (sandbox/run-action.ts killAfterMs: never)'
    },
    sectionSeconds: {},
    errors: []
  }
  const files = new ResultsFiles(results)
  /** Runs one section; a failure is printed and recorded, and the other sections still run. */
  const section = async (name: Section, measureAndPrint: () => Promise<void>): Promise<void> => {
    if (!runs(name)) return
    const sectionStarted = Date.now()
    try {
      await measureAndPrint()
    } catch (error) {
      process.stderr.write('\n')
      const message = `${name} FAILED after ${fixed(seconds(sectionStarted))} s: ${error instanceof Error ? error.message : String(error)}`
      results.errors.push(message)
      files.print(`\n${message}`)
    } finally {
      results.sectionSeconds[name] = seconds(sectionStarted)
      files.save()
    }
  }
  try {
    const action = copyActionBundle(scratch)
    results.dist = { ...(results.dist as object), bytes: readFileSync(action).length }
    files.print(
      `packer-sweeper benchmark — ${(results.date as string).slice(0, 10)}, ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}, median of ${options.runs} run(s) a point\n` +
        `(tables also in ${relative(ROOT, files.text)}, numbers in ${relative(ROOT, files.json)}, each written as soon as it is measured)`
    )

    await section('matrix', async () => {
      process.stderr.write('cold-start baseline: ')
      const { bundle: baselineBundle, cached } = buildBaseline(options.rebuildBaseline)
      process.stderr.write(cached ? `(cached ${relative(ROOT, baselineBundle)}) ` : 'built with ncc, ')
      const baseline = await benchBaseline(scratch, baselineBundle, options.baselineRuns)
      results.baseline = baseline
      const { items: points, add } = files.collect<Point>('points')
      for (const size of options.sizes) {
        for (const regionCount of options.regionCounts) {
          process.stderr.write(`\n${thousands(size)} × ${regionCount} region(s) `)
          add(await benchPoint(scratch, action, size, regionCount, options.runs))
        }
      }
      process.stderr.write('\n')
      const ratios = wallRatios(points, options.regionCounts)
      const actionColdStart = median(points.flatMap((p) => p.samples.map((s) => s.coldStartMs)))
      results.wallRatios = ratios
      results.coldStart = {
        actionMs: actionColdStart,
        baselineMs: baseline.coldStartMs,
        ratio: actionColdStart / baseline.coldStartMs
      }
      const lines = ['', pointsTable(points), '']
      for (const ratio of ratios)
        lines.push(
          `wall ${ratio.regions} regions / 1 region, ${thousands(ratio.instancesPerRegion)} instances a region: ${fixed(ratio.ratio, 2)} (target ≈ 1)`
        )
      const overFloor = points.filter((p) => p.calls > p.lowerBound)
      lines.push(
        `calls vs lower bound: ${overFloor.length === 0 ? 'at the floor at every point' : `ABOVE the floor at ${overFloor.map((p) => `${thousands(p.instancesPerRegion)}×${p.regions}`).join(', ')}`}`,
        `cold start (spawn → first request): action ${fixed(actionColdStart)} ms, bare bundle of @actions/core + EC2/SNS/STS clients ${fixed(baseline.coldStartMs)} ms` +
          ` → ${fixed(actionColdStart / baseline.coldStartMs, 2)}× (${fixed(Math.abs(actionColdStart - baseline.coldStartMs))} ms ${actionColdStart >= baseline.coldStartMs ? 'more' : 'less'}); peak RSS of the bare bundle ${fixed(baseline.peakRssMiB)} MiB`
      )
      files.print(lines.join('\n'))
    })

    await section('cancel', async () => {
      process.stderr.write('SIGINT mid-sweep ')
      const cancellation = await benchCancellation(scratch, action, options.runs)
      process.stderr.write('\n')
      results.cancellation = cancellation
      files.print(`\n${cancellationReport(cancellation)}`)
    })

    await section('publish', async () => {
      process.stderr.write('Publish count ')
      const { items: publish, add } = files.collect<PublishPoint>('publish')
      await benchPublish(scratch, action, options.publishSizes, add)
      process.stderr.write('\n')
      const over = publish.filter((p) => p.overBound)
      files.print(
        `\n${publishReport(publish)}\n\nPublish calls vs parts needed: ${over.length === 0 ? 'never above' : `ABOVE at ${over.map((p) => thousands(p.acted)).join(', ')} terminated`}`
      )
    })

    await section('roundtrips', async () => {
      const { items: roundTrips, add } = files.collect<RoundTripResult>('roundTrips')
      await benchRoundTrips(scratch, action, options.roundTripRuns, add)
      process.stderr.write('\n')
      files.print(`\n${roundTripReport(roundTrips)}${busyNote()}`)
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
    results.benchSeconds = seconds(started)
    results.finished = true
    const took = Object.entries(results.sectionSeconds)
      .map(([name, s]) => `${name} ${fixed(s)} s`)
      .join(', ')
    files.print(
      `\n${relative(ROOT, files.json)} and ${relative(ROOT, files.text)} written; the benchmark took ${fixed(results.benchSeconds as number)} s (${took}), load average at the end ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}.`
    )
  }
  if (results.errors.length > 0) {
    console.error(`\n${results.errors.length} section(s) failed: ${results.errors.join('; ')}`)
    process.exitCode = 1
  }
}

await main()
