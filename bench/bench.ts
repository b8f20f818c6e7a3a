/**
 * `npm run bench`: the committed bundle dist/index.js against the sandbox AWS account, for fleets
 * of 100, 1,000 and 10,000 instances per region in 1 and 4 regions, `action: terminate` with no
 * caps and an SNS topic. Per point, the median of a few runs of:
 *
 * - wall time: spawn of `node dist/index.js` to its exit, as the runner's step would see it;
 * - API calls by operation, from the sandbox's calls log, against the lower bound
 *   (per region ceil(matching/1000) DescribeInstances + ceil(acted/100) TerminateInstances, +1 Publish);
 * - peak memory of the action's process: `process.resourceUsage().maxRSS` written at exit by a
 *   preloaded `--require` hook (works wherever node does, unlike GNU time), with its CPU time;
 * - cold start: spawn to the first request the sandbox receives, compared with a bare ncc bundle
 *   of @actions/core + the EC2/SNS/STS clients sending one request (bench/cold-start-baseline.ts).
 *
 * Not part of the test suite: it asserts nothing. Prints a table, writes bench/results/latest.json.
 *
 *   npm run bench                                   the full matrix, 3 runs a point (~3 minutes on 2 cores)
 *   npm run bench -- --sizes=100,1000 --runs=1      a quick look (also BENCH_SIZES, BENCH_REGIONS, BENCH_RUNS)
 */
import { spawnSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, relative } from 'node:path'
import ts from 'typescript'
import { DIST, ROOT, runAction, type RunResult } from '../__tests__/e2e/harness.js'
import { DEFAULT_TOPIC_ARN, generateFleet, startSandbox, type FleetSeed, type Sandbox } from '../__tests__/sandbox/index.js'

/** Enough regions for the widest point; the first one is the topic's (us-east-1). */
const BENCH_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1']
const DESCRIBE_PAGE = 1000
const ACTION_BATCH = 100
const RESULTS_DIR = join(ROOT, 'bench/results')

interface BenchOptions {
  sizes: number[]
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
    if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${what}: expected positive integers separated by commas, got '${text}'`)
    return list
  }
  const regionCounts = numbers(flag('regions', 'BENCH_REGIONS', '1,4'), 'regions')
  if (regionCounts.some((n) => n > BENCH_REGIONS.length)) throw new Error(`--regions: at most ${BENCH_REGIONS.length}`)
  const [runs = 3] = numbers(flag('runs', 'BENCH_RUNS', '3'), 'runs')
  return {
    sizes: numbers(flag('sizes', 'BENCH_SIZES', '100,1000,10000'), 'sizes'),
    regionCounts,
    runs,
    // Cold starts are short and noisy: the baseline gets more runs than a fleet point.
    baselineRuns: Math.max(5, runs * 2),
    rebuildBaseline: argv.includes('--rebuild-baseline')
  }
}

// ---- one measured run ----

/** Written at the child's exit by the preload hook. */
interface ProcessUsage {
  maxRssKiB: number
  userMicros: number
  systemMicros: number
}

/**
 * CommonJS on purpose: `--require` runs it synchronously before the bundle, so it costs the cold
 * start next to nothing, and 'exit' fires also after process.exit() and uncaught errors.
 */
const USAGE_HOOK = `process.on('exit', () => {
  const usage = process.resourceUsage()
  require('node:fs').writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({ maxRssKiB: usage.maxRSS, userMicros: usage.userCPUTime, systemMicros: usage.systemCPUTime }))
})
`

interface Sample {
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
}

interface Scratch {
  dir: string
  hook: string
}

async function measure(scratch: Scratch, sandbox: Sandbox, run: { inputs?: Record<string, string>; dist?: string; regions: readonly string[] }): Promise<{ sample: Sample; result: RunResult }> {
  const usageFile = join(scratch.dir, 'usage.json')
  rmSync(usageFile, { force: true })
  const cpuBefore = process.cpuUsage()
  // runAction spawns before its first await: this is the moment the process starts, to within a millisecond.
  const spawnedAt = performance.now()
  const result = await runAction({ inputs: run.inputs, dist: run.dist, sandbox, env: { NODE_OPTIONS: `--require "${scratch.hook}"`, BENCH_USAGE_FILE: usageFile } })
  const wallMs = performance.now() - spawnedAt
  const sandboxCpu = process.cpuUsage(cpuBefore)
  if (!existsSync(usageFile)) throw new Error(`the process left no usage report (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as ProcessUsage
  const first = sandbox.calls[0]
  if (!first) throw new Error(`the process sent no request (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
  const callsByOperation: Record<string, number> = {}
  for (const call of sandbox.calls) callsByOperation[call.action] = (callsByOperation[call.action] ?? 0) + 1
  const bound = lowerBound(sandbox, run.regions, Boolean(run.inputs?.['sns-topic-arn']))
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
      callsByOperation,
      calls: sandbox.calls.length,
      ...bound
    }
  }
}

/** The instance states `instance-states` counts by default: what DescribeInstances' filter lets through. */
const COUNTED_STATES = new Set(['pending', 'running', 'stopping', 'stopped'])

/**
 * The fewest calls any implementation needs, from the sandbox's own account of the run rather
 * than the action's report (whose lists are cut to fit the output size):
 * matching = Packer builders in a counted state before the run, acted = instances it terminated.
 */
function lowerBound(sandbox: Sandbox, regions: readonly string[], publishes: boolean): { lowerBound: number; matching: number; acted: number } {
  let calls = publishes ? 1 : 0
  let matching = 0
  let acted = 0
  for (const region of regions) {
    const instances = sandbox.fleet.instances(region)
    const matchingHere = instances.filter((i) => i.keyName?.startsWith('packer_') && COUNTED_STATES.has(i.history[0] ?? i.state)).length
    const actedHere = instances.filter((i) => i.history.includes('shutting-down')).length
    // Even an empty region takes one DescribeInstances to learn that it is empty.
    calls += Math.max(1, Math.ceil(matchingHere / DESCRIBE_PAGE)) + Math.ceil(actedHere / ACTION_BATCH)
    matching += matchingHere
    acted += actedHere
  }
  return { lowerBound: calls, matching, acted }
}

// ---- the matrix ----

function benchFleet(size: number, regions: string[], seed: number): FleetSeed {
  // One in ten instances is not Packer's (server-side filtering must drop it); half the builders are stale.
  return Object.assign({}, ...regions.map((region) => generateFleet({ region, count: size, staleFraction: 0.5, nonPackerFraction: 0.1, seed })))
}

const median = (values: number[]): number => {
  const ordered = [...values].sort((a, b) => a - b)
  const middle = Math.floor(ordered.length / 2)
  return ordered.length % 2 === 1 ? (ordered[middle] as number) : ((ordered[middle - 1] as number) + (ordered[middle] as number)) / 2
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

async function benchPoint(scratch: Scratch, action: string, size: number, regionCount: number, runs: number): Promise<Point> {
  const regions = BENCH_REGIONS.slice(0, regionCount)
  const inputs = { action: 'terminate', 'max-age': '2h', regions: regions.join(','), 'max-instances': '0', 'max-resources': '0', 'sns-topic-arn': DEFAULT_TOPIC_ARN }
  const samples: Sample[] = []
  for (let run = 0; run < runs; run++) {
    // A fresh account per run: the previous run terminated half of it.
    const sandbox = await startSandbox({ fleet: benchFleet(size, regions, run + 1), regions })
    try {
      const { sample, result } = await measure(scratch, sandbox, { inputs, dist: action, regions })
      if (result.exitCode !== 0) throw new Error(`${size}×${regionCount}: the action failed (exit ${result.exitCode}):\n${result.log.slice(-2000)}`)
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
  const key = createHash('sha256').update(source).update(readFileSync(join(ROOT, 'package-lock.json'))).update(readFileSync(ncc)).digest('hex').slice(0, 16)
  const folder = join(RESULTS_DIR, `baseline-${key}`)
  const cached = findBundle(folder)
  if (cached && !rebuild) return { bundle: cached, cached: true }
  rmSync(folder, { recursive: true, force: true })
  mkdirSync(folder, { recursive: true })
  // Inside the repository, so that ncc resolves node_modules; bench/results/ is git-ignored.
  const entry = join(folder, 'entry.mjs')
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  writeFileSync(entry, outputText)
  const out = join(folder, 'dist')
  const built = spawnSync(process.execPath, [ncc, 'build', entry, '-o', out, '--minify', '--quiet'], { cwd: ROOT, encoding: 'utf8' })
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
  return { commit: log.stdout.trim(), uncommittedChanges: git('status', '--porcelain', '--', relative(ROOT, dirname(DIST))).stdout.trim() !== '' }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) => `| ${row.map((cell, column) => (column < 2 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join(' | ')} |`
  return [line(rows[0] ?? []), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n')
}

const fixed = (n: number, digits = 0) => n.toFixed(digits)
const thousands = (n: number) => n.toLocaleString('en-US')

function pointsTable(points: Point[]): string {
  const operations = [...new Set(points.flatMap((p) => Object.keys(p.callsByOperation)))].sort()
  const header = ['instances/region', 'regions', 'wall (s)', 'calls / lower bound', ...operations, 'peak RSS (MiB)', 'action CPU (s)', 'sandbox CPU (s)', 'cold start (ms)']
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

function wallRatios(points: Point[], regionCounts: number[]): Array<{ instancesPerRegion: number; regions: number; ratio: number }> {
  const widest = Math.max(...regionCounts)
  const narrowest = Math.min(...regionCounts)
  if (widest === narrowest) return []
  return points
    .filter((p) => p.regions === widest)
    .flatMap((wide) => {
      const narrow = points.find((p) => p.regions === narrowest && p.instancesPerRegion === wide.instancesPerRegion)
      return narrow ? [{ instancesPerRegion: wide.instancesPerRegion, regions: widest, ratio: wide.wallMs / narrow.wallMs }] : []
    })
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  if (!existsSync(DIST)) throw new Error(`${relative(ROOT, DIST)} is missing: the benchmark measures the bundle. Build it with 'npm run build'.`)
  mkdirSync(RESULTS_DIR, { recursive: true })
  // Inside the repository, so that ncc resolves node_modules; bench/results/ is git-ignored.
  const dir = mkdtempSync(join(RESULTS_DIR, 'scratch-'))
  const scratch: Scratch = { dir, hook: join(dir, 'usage-hook.cjs') }
  writeFileSync(scratch.hook, USAGE_HOOK)
  const started = Date.now()
  try {
    const action = copyActionBundle(scratch)
    process.stderr.write('cold-start baseline: ')
    const { bundle: baselineBundle, cached } = buildBaseline(options.rebuildBaseline)
    process.stderr.write(cached ? `(cached ${relative(ROOT, baselineBundle)}) ` : 'built with ncc, ')
    const baseline = await benchBaseline(scratch, baselineBundle, options.baselineRuns)
    const points: Point[] = []
    for (const size of options.sizes) {
      for (const regionCount of options.regionCounts) {
        process.stderr.write(`\n${thousands(size)} × ${regionCount} region(s) `)
        points.push(await benchPoint(scratch, action, size, regionCount, options.runs))
      }
    }
    process.stderr.write('\n\n')

    const actionColdStart = median(points.flatMap((p) => p.samples.map((s) => s.coldStartMs)))
    const ratios = wallRatios(points, options.regionCounts)
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` }
    const results = {
      date: new Date().toISOString(),
      command: `npm run bench -- --sizes=${options.sizes.join(',')} --regions=${options.regionCounts.join(',')} --runs=${options.runs}`,
      machine,
      dist: { path: relative(ROOT, DIST), bytes: readFileSync(action).length, ...distVersion() },
      method: {
        fleet: 'generateFleet per region: 10% non-Packer, half of the builders stale (max-age 2h), all running',
        inputs: 'action: terminate, max-age: 2h, max-instances: 0, max-resources: 0, sns-topic-arn set, regions listed',
        wall: 'spawn of node dist/index.js to exit, median of runs',
        memory: 'process.resourceUsage().maxRSS of the action process, written at exit by a --require hook',
        coldStart: 'spawn to the first request received by the sandbox',
        lowerBound: 'per region max(1, ceil(matching/1000)) DescribeInstances + ceil(terminated/100) TerminateInstances, + 1 Publish; matching and terminated counted in the sandbox'
      },
      baseline,
      coldStart: { actionMs: actionColdStart, baselineMs: baseline.coldStartMs, ratio: actionColdStart / baseline.coldStartMs },
      wallRatios: ratios,
      points,
      benchSeconds: (Date.now() - started) / 1000
    }
    const out = join(RESULTS_DIR, 'latest.json')
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)

    console.log(`packer-sweeper benchmark — ${results.date.slice(0, 10)}, ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, median of ${options.runs} run(s) a point\n`)
    console.log(pointsTable(points))
    console.log()
    for (const ratio of ratios) console.log(`wall ${ratio.regions} regions / 1 region, ${thousands(ratio.instancesPerRegion)} instances a region: ${fixed(ratio.ratio, 2)} (target ≈ 1)`)
    console.log(
      `cold start (spawn → first request): action ${fixed(actionColdStart)} ms, bare bundle of @actions/core + EC2/SNS/STS clients ${fixed(baseline.coldStartMs)} ms` +
        ` → ${fixed(results.coldStart.ratio, 2)}× (${fixed(actionColdStart - baseline.coldStartMs)} ms more); peak RSS of the bare bundle ${fixed(baseline.peakRssMiB)} MiB`
    )
    console.log(`\n${relative(ROOT, out)} written; the benchmark took ${fixed(results.benchSeconds)} s.`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
