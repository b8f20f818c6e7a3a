/**
 * The AWS write calls of every end-to-end run, recorded against a committed baseline
 * (write-calls.baseline.json): proof that a refactor of src/ sends exactly the same writes, with the
 * same resource IDs, batches, dry-run flags and order, in every scenario of the suite.
 *
 * - `RECORD_WRITE_CALLS=1`: every run's write calls are recorded and, when the test file is done,
 *   written into the baseline (that file's section is replaced test by test: the tests that ran
 *   get their new runs, the others are kept). Record on a green suite; to drop entries of renamed
 *   or deleted tests, delete the baseline and record the whole suite.
 * - Otherwise, when the baseline exists: each run is compared with the baseline's run of the same
 *   index in the same test, and a difference fails that run (its `runAction` throws, with a diff).
 *   When the file is done, a test that ran fewer runs than the baseline has fails the file. A test
 *   the baseline does not know fails on its first run. Baseline entries of tests that did not run
 *   at all (filtered with `-t`, or deleted) are not checked.
 * - `WRITE_CALLS_BASELINE=<path>` (relative to the repository root, or absolute) reads or records
 *   another baseline file, e.g. a scratch copy.
 * - `WRITE_CALLS_OBSERVED=<path>` (compare mode) also writes what was observed there, in the
 *   baseline's format, so that two runs of the suite can be diffed.
 *
 * What counts as a write: every action that is not a read. Reads are `Describe*`, `List*`, `Get*`
 * (GetCallerIdentity, the Pricing API's GetProducts included) and `AssumeRole*`. The action sends
 * these writes today (WRITES below says how each is recorded): EC2 StopInstances,
 * TerminateInstances, DeleteKeyPair, DeleteSecurityGroup, DeleteLaunchTemplate; IAM
 * RemoveRoleFromInstanceProfile, DeleteRolePolicy, DeleteRole, DeleteInstanceProfile; SNS Publish.
 * Any other non-read action is recorded too, with all its parameters, so a new write shows up as a
 * difference. Calls are recorded as the sandbox received them: DryRun calls, refused, throttled,
 * dropped and silenced ones and the SDK's retries included.
 *
 * Each run is recorded per region (the call's SigV4 region: IAM is signed with the client's region,
 * SNS with the topic's), because regions run side by side and their interleaving is not
 * deterministic. Within a region the calls keep the order the sandbox received them in, except
 * where the action sends calls concurrently, so that their arrival order is not deterministic
 * either: a stretch of consecutive calls of one CONCURRENT group is sorted (see CONCURRENT).
 *
 * Resource IDs are stable between runs: the sandbox generates IDs from a fixed seed, fast-check
 * properties run with a fixed seed (__tests__/setup/fast-check.ts). Names are not always: Packer's
 * names embed the clock (`packer-<uuid>` whose first 8 hex digits are the build's start) and some
 * fixtures draw them with Math.random. Only IAM writes name their resource, so an IAM name is
 * recorded as the unique ID (AROA…/AIPA…) the sandbox gave the role or profile of that name when
 * it was seeded; a name nobody seeded is recorded as sent.
 */
import { afterAll, beforeEach, expect } from '@jest/globals'
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { IamAccount, type CallRecord, type Sandbox } from '../../sandbox/index.js'
import { ROOT, type RunResult } from '../../sandbox/run-action.js'

/** One write call as the baseline holds it; the region is its group's key. */
export interface WriteCall {
  service: CallRecord['service']
  action: string
  /** The resource IDs or names it acts on (sorted when the action takes a batch), see WRITES. */
  ids: string[]
  dryRun: boolean
}

/** One run: region (or `unsigned`) → its write calls. `null`: the run had no sandbox, so nothing could be seen. */
export type RunWrites = Record<string, WriteCall[]> | null

/** Test file (relative to the repository) → full test name → its runs, in order. */
export type WriteCallsBaseline = Record<string, Record<string, RunWrites[]>>

export const BASELINE_PATH = resolve(
  ROOT,
  process.env.WRITE_CALLS_BASELINE || '__tests__/e2e/write-calls.baseline.json'
)
const RECORDING = process.env.RECORD_WRITE_CALLS === '1'
const OBSERVED_PATH = process.env.WRITE_CALLS_OBSERVED ? resolve(ROOT, process.env.WRITE_CALLS_OBSERVED) : undefined

const READ = /^(Describe|List|Get|AssumeRole)/

/** Code-unit order: the same on every machine and locale. */
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * How each known write is recorded: the parameters that name its resources, in this order, and
 * whether it takes a batch (its IDs are then sorted: the order inside a batch carries no meaning).
 */
const WRITES: Record<string, { params: RegExp[]; batch?: true }> = {
  StopInstances: { params: [/^InstanceId\.\d+$/], batch: true },
  TerminateInstances: { params: [/^InstanceId\.\d+$/], batch: true },
  DeleteKeyPair: { params: [/^KeyPairId$/, /^KeyName$/] },
  DeleteSecurityGroup: { params: [/^GroupId$/, /^GroupName$/] },
  DeleteLaunchTemplate: { params: [/^LaunchTemplateId$/, /^LaunchTemplateName$/] },
  RemoveRoleFromInstanceProfile: { params: [/^InstanceProfileName$/, /^RoleName$/] },
  DeleteRolePolicy: { params: [/^RoleName$/, /^PolicyName$/] },
  DeleteRole: { params: [/^RoleName$/] },
  DeleteInstanceProfile: { params: [/^InstanceProfileName$/] },
  Publish: { params: [/^TopicArn$/, /^TargetArn$/, /^PhoneNumber$/] }
}

/**
 * Writes the action sends concurrently, by group: within a region, a stretch of consecutive calls
 * of one group is sorted by the group's key. Everything else keeps its arrival order (StopInstances
 * and TerminateInstances batches go one after another per region; SNS parts one after another).
 *
 * - EC2 leftovers: every kind is deleted side by side, up to 25 deletes at once per kind
 *   (src/orphans/index.ts). Sorted by action, then IDs.
 * - IAM leftovers: up to 4 leftovers at once, and within one leftover the steps of a stage side by
 *   side (src/kinds/instance-profiles/sweep.ts, REMOVAL_STAGES). Sorted by the leftover, then
 *   stage, then action: each leftover's own stage order is kept. A leftover is Packer's role and
 *   profile of one name, known by the role's ID (the profile's when there is no role of that name).
 */
const CONCURRENT: Record<
  string,
  { group: string; key: (call: WriteCall, sent: CallRecord, sandbox: Sandbox) => string }
> = {}
for (const action of ['DeleteKeyPair', 'DeleteSecurityGroup', 'DeleteLaunchTemplate'])
  CONCURRENT[action] = { group: 'ec2-leftovers', key: (call) => JSON.stringify([call.action, call.ids]) }
const IAM_STAGE: Record<string, number> = {
  RemoveRoleFromInstanceProfile: 1,
  DeleteRolePolicy: 1,
  DeleteRole: 2,
  DeleteInstanceProfile: 3
}
for (const action of Object.keys(IAM_STAGE)) {
  CONCURRENT[action] = {
    group: 'iam-leftovers',
    key: (call, sent, sandbox) => {
      const leftover = iamId(sandbox, 'RoleName', sent.params.InstanceProfileName ?? sent.params.RoleName ?? '')
      return JSON.stringify([leftover, IAM_STAGE[call.action], call.action, call.ids])
    }
  }
}

/**
 * Runs left out of the baseline (neither recorded nor compared), by test file and full test name,
 * each with the reason. Everything else was recorded twice and came out identical.
 */
export const EXCLUDED: ReadonlyArray<{ file: string; test: RegExp; when?: () => boolean; why: string }> = [
  {
    file: '__tests__/e2e/property.test.ts',
    test: /./,
    when: () => process.env.FC_SEED !== undefined,
    why: 'FC_SEED draws other fleets and inputs than the fixed seed the baseline was recorded with'
  }
]

// ---- IAM names → the IDs the sandbox gave them when seeded ----

const iamIds = new WeakMap<IamAccount, { roles: Map<string, string>; profiles: Map<string, string> }>()
const seed = IamAccount.prototype.seed
IamAccount.prototype.seed = function (this: IamAccount, ...args: Parameters<IamAccount['seed']>) {
  seed.apply(this, args)
  const known = iamIds.get(this) ?? { roles: new Map<string, string>(), profiles: new Map<string, string>() }
  for (const role of this.roles) known.roles.set(role.roleName.toLowerCase(), role.roleId)
  for (const profile of this.instanceProfiles)
    known.profiles.set(profile.instanceProfileName.toLowerCase(), profile.instanceProfileId)
  iamIds.set(this, known)
}

function iamId(sandbox: Sandbox, param: string, name: string): string {
  const known = iamIds.get(sandbox.iam)
  if (!known) return name
  const lower = name.toLowerCase()
  const first = param === 'InstanceProfileName' ? [known.profiles, known.roles] : [known.roles, known.profiles]
  return first[0]?.get(lower) ?? first[1]?.get(lower) ?? name
}

// ---- recording a run ----

export function isWrite(call: Pick<CallRecord, 'action'>): boolean {
  return call.action !== '' && !READ.test(call.action)
}

function writeCall(call: CallRecord, sandbox: Sandbox): WriteCall {
  const known = WRITES[call.action]
  const names = Object.keys(call.params).filter((name) => name !== 'Action' && name !== 'Version' && name !== 'DryRun')
  let ids: string[]
  if (known) {
    const params = known.params.flatMap((pattern) => names.filter((name) => pattern.test(name)))
    ids = params.map((name) =>
      call.service === 'iam' ? iamId(sandbox, name, call.params[name] as string) : (call.params[name] as string)
    )
    if (known.batch) ids.sort()
  } else {
    // Not a write the action is known to send: everything it carried.
    ids = names.sort().map((name) => `${name}=${call.params[name]}`)
  }
  return { service: call.service, action: call.action, ids, dryRun: call.params.DryRun === 'true' }
}

interface Received {
  call: WriteCall
  sent: CallRecord
}

/** Sorts each stretch of consecutive calls of one CONCURRENT group; the rest keeps its order. */
function canonicalOrder(calls: Received[], sandbox: Sandbox): WriteCall[] {
  const out: WriteCall[] = []
  const groupOf = (index: number) => CONCURRENT[(calls[index] as Received).call.action]?.group
  for (let start = 0; start < calls.length;) {
    const group = groupOf(start)
    let end = start + 1
    while (group !== undefined && end < calls.length && groupOf(end) === group) end++
    const stretch = calls.slice(start, end)
    if (group !== undefined) {
      const keyed = stretch.map(({ call, sent }) => ({
        call,
        key: CONCURRENT[call.action]?.key(call, sent, sandbox) as string
      }))
      keyed.sort((a, b) => byKey(a.key, b.key))
      out.push(...keyed.map(({ call }) => call))
    } else out.push(...stretch.map(({ call }) => call))
    start = end
  }
  return out
}

export function runWrites(calls: readonly CallRecord[], sandbox: Sandbox): RunWrites {
  const byRegion = new Map<string, Received[]>()
  for (const sent of calls.filter(isWrite)) {
    const region = sent.region ?? 'unsigned'
    byRegion.set(region, [...(byRegion.get(region) ?? []), { call: writeCall(sent, sandbox), sent }])
  }
  return Object.fromEntries(
    [...byRegion.keys()]
      .sort(byKey)
      .map((region) => [region, canonicalOrder(byRegion.get(region) as Received[], sandbox)])
  )
}

// ---- per test file state (jest runs each file in its own module registry) ----

/** How many of each sandbox's calls earlier runs took: a sandbox may serve several runs. */
const consumed = new WeakMap<Sandbox, number>()
/** Full test name → its runs recorded so far (excluded tests are not here). */
const observed = new Map<string, RunWrites[]>()
/** Every test of this file that started (beforeEach): a test that ran no run at all is known too. */
const started = new Set<string>()
let testFile: string | undefined
let baseline: WriteCallsBaseline | undefined | null

function currentTest(): { file: string; test: string } {
  const state = expect.getState()
  if (!state.testPath || state.currentTestName === undefined)
    throw new Error('write-calls: a run outside a test (in a beforeAll?) cannot be recorded')
  return { file: relative(ROOT, state.testPath).split(sep).join('/'), test: state.currentTestName }
}

function excluded(file: string, test: string): boolean {
  return EXCLUDED.some((rule) => rule.file === file && rule.test.test(test) && (rule.when?.() ?? true))
}

function loadBaseline(): WriteCallsBaseline | null {
  if (baseline === undefined)
    baseline = existsSync(BASELINE_PATH)
      ? (JSON.parse(readFileSync(BASELINE_PATH, 'utf8')) as WriteCallsBaseline)
      : null
  return baseline
}

/** A path as messages show it: relative inside the repository, else absolute. */
const shownPath = (path: string) => (relative(ROOT, path).startsWith('..') ? path : relative(ROOT, path))

const rerecord = (file: string) =>
  `If the change is intended, record again: RECORD_WRITE_CALLS=1 NODE_OPTIONS=--experimental-vm-modules npx jest ${file}`

/** The check `runAction` applies to every run (registered in harness.ts). */
export function recordWriteCalls(_run: RunResult, sandbox: Sandbox | undefined): void {
  const { file, test } = currentTest()
  testFile = file
  started.add(test)
  if (excluded(file, test)) return
  let writes: RunWrites = null
  if (sandbox) {
    const from = consumed.get(sandbox) ?? 0
    consumed.set(sandbox, sandbox.calls.length)
    writes = runWrites(sandbox.calls.slice(from), sandbox)
  }
  const runs = observed.get(test) ?? []
  runs.push(writes)
  observed.set(test, runs)
  if (RECORDING) return
  const known = loadBaseline()
  if (!known) return
  const expected = known[file]?.[test]
  const where = `${file} › ${test} (run ${runs.length})`
  if (expected === undefined)
    throw new Error(
      `write calls: the baseline ${shownPath(BASELINE_PATH)} has no entry for ${where}.\n${rerecord(file)}`
    )
  if (runs.length > expected.length)
    throw new Error(
      `write calls: ${where}: the baseline has only ${expected.length} run(s) of this test; this is one more.\n${rerecord(file)}`
    )
  const diff = diffRuns(expected[runs.length - 1] as RunWrites, writes)
  if (diff)
    throw new Error(
      `write calls differ from the baseline ${shownPath(BASELINE_PATH)} for ${where}\n${diff}\n${rerecord(file)}`
    )
}

beforeEach(() => {
  const state = expect.getState()
  if (state.currentTestName !== undefined) started.add(state.currentTestName)
  if (state.testPath) testFile = relative(ROOT, state.testPath).split(sep).join('/')
})

afterAll(() => {
  const file = testFile
  if (file === undefined || !file.startsWith('__tests__/e2e/')) return
  if (RECORDING) return writeSection(BASELINE_PATH, file)
  if (OBSERVED_PATH) writeSection(OBSERVED_PATH, file)
  const known = loadBaseline()?.[file]
  if (!known) return
  const short = Object.entries(known)
    .filter(
      ([test, runs]) => started.has(test) && !excluded(file, test) && (observed.get(test)?.length ?? 0) < runs.length
    )
    .map(([test, runs]) => `  ${test}: ${observed.get(test)?.length ?? 0} of ${runs.length} run(s)`)
  if (short.length > 0)
    throw new Error(
      `write calls: tests of ${file} ran fewer runs than the baseline has:\n${short.join('\n')}\n${rerecord(file)}`
    )
})

// ---- the baseline file ----

/** Replaces, in the file at `path`, the entries of this test file's tests that started; under a lock (jest's workers write side by side). */
function writeSection(path: string, file: string): void {
  withLock(`${path}.lock`, () => {
    const all: WriteCallsBaseline = existsSync(path)
      ? (JSON.parse(readFileSync(path, 'utf8')) as WriteCallsBaseline)
      : {}
    const section = { ...all[file] }
    // An excluded test's entry, if any, is left as it is: it is neither recorded nor compared.
    for (const test of started) if (!excluded(file, test)) delete section[test]
    for (const [test, runs] of observed) section[test] = runs
    if (Object.keys(section).length > 0) all[file] = section
    else delete all[file]
    const temporary = `${path}.${process.pid}.tmp`
    writeFileSync(temporary, formatBaseline(all))
    renameSync(temporary, path)
  })
}

function withLock(lock: string, work: () => void): void {
  const until = Date.now() + 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (Date.now() > until)
        throw new Error(`write calls: ${lock} is still held after 60 s (a crashed run's? remove it)`, { cause: error })
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
    }
  }
  try {
    work()
  } finally {
    rmdirSync(lock)
  }
}

/** Pretty, with sorted keys, one call per line. */
export function formatBaseline(all: WriteCallsBaseline): string {
  const lines = ['{']
  const files = Object.keys(all).sort(byKey)
  files.forEach((file, f) => {
    lines.push(`  ${JSON.stringify(file)}: {`)
    const tests = Object.keys(all[file] ?? {}).sort(byKey)
    tests.forEach((test, t) => {
      const runs = all[file]?.[test] ?? []
      lines.push(`    ${JSON.stringify(test)}: [`)
      runs.forEach((run, r) => {
        const comma = r < runs.length - 1 ? ',' : ''
        const regions = run === null ? [] : Object.keys(run).sort(byKey)
        if (run === null || regions.length === 0) return void lines.push(`      ${JSON.stringify(run)}${comma}`)
        lines.push('      {')
        regions.forEach((region, g) => {
          const calls = run[region] ?? []
          lines.push(`        ${JSON.stringify(region)}: [`)
          calls.forEach((call, c) => {
            const ordered = { service: call.service, action: call.action, ids: call.ids, dryRun: call.dryRun }
            lines.push(`          ${JSON.stringify(ordered)}${c < calls.length - 1 ? ',' : ''}`)
          })
          lines.push(`        ]${g < regions.length - 1 ? ',' : ''}`)
        })
        lines.push(`      }${comma}`)
      })
      lines.push(`    ]${t < tests.length - 1 ? ',' : ''}`)
    })
    lines.push(`  }${f < files.length - 1 ? ',' : ''}`)
  })
  lines.push('}')
  return `${lines.join('\n')}\n`
}

// ---- differences ----

function callLine(call: WriteCall): string {
  const ids =
    call.ids.length > 12 ? `${call.ids.slice(0, 12).join(' ')} … (${call.ids.length} IDs)` : call.ids.join(' ')
  return `${call.service} ${call.action}${call.dryRun ? ' (DryRun)' : ''} ${ids}`
}

/** A readable difference between two runs, per region (`-` only in the baseline, `+` only in this run), or undefined when equal. */
export function diffRuns(expected: RunWrites, actual: RunWrites): string | undefined {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return undefined
  if (expected === null || actual === null)
    return `the baseline's run ${expected === null ? 'had no sandbox' : 'had a sandbox'}, this one ${actual === null ? 'has none' : 'has one'}`
  const out: string[] = []
  for (const region of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort(byKey)) {
    const before = expected[region] ?? []
    const after = actual[region] ?? []
    if (JSON.stringify(before) === JSON.stringify(after)) continue
    out.push(`region ${region}: ${before.length} write call(s) in the baseline, ${after.length} in this run`)
    for (const [mark, call] of lineDiff(before, after)) out.push(`  ${mark} ${callLine(call)}`)
  }
  return out.join('\n')
}

/** Longest-common-subsequence diff of two call lists. */
function lineDiff(before: WriteCall[], after: WriteCall[]): Array<[' ' | '-' | '+', WriteCall]> {
  const a = before.map((call) => JSON.stringify(call))
  const b = after.map((call) => JSON.stringify(call))
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, (lcs[i] as number[])[j + 1] as number)
  const out: Array<[' ' | '-' | '+', WriteCall]> = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push([' ', before[i++] as WriteCall])
      j++
    } else if (
      i < a.length &&
      (j === b.length || ((lcs[i + 1] as number[])[j] as number) >= ((lcs[i] as number[])[j + 1] as number))
    ) {
      out.push(['-', before[i++] as WriteCall])
    } else out.push(['+', after[j++] as WriteCall])
  }
  return out
}
