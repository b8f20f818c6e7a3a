/**
 * `npm run demo`: runs the committed bundle dist/index.js, as the GitHub runner would, against the
 * sandbox AWS account on 127.0.0.1 seeded with a small Packer mess in two regions, and prints what
 * a newcomer wants to see: the fleet before → after, the job summary as text, the outputs, the SNS
 * message, the step log as the run page shows it and the exit code.
 *
 * No AWS account, no network, no GitHub: the harness gives the action a clean environment with
 * throwaway credentials and AWS_ENDPOINT_URL pointing at the sandbox, so nothing can reach AWS.
 *
 * IAM (global) holds the temporary instance profile and role of three builds: a killed one's
 * (5 h old, nobody uses it: deleted), the live build's (too young to count) and the kept
 * builder's (stale, but a running instance uses it: left alone).
 *
 * The fleet contains a builder with termination protection, so the action is *expected* to fail
 * the step (exit 1). This script exits 0 when the action did exactly what it should, 1 otherwise.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { DIST, ROOT, runAction, type RunResult } from '../sandbox/run-action.js'
import {
  DEFAULT_TOPIC_ARN,
  packerIamLeftovers,
  packerName,
  startSandbox,
  type FleetSeed,
  type IamSeed,
  type IamInstanceProfileRef,
  type Sandbox
} from '../sandbox/index.js'
import { formatAge } from '../src/model/format.js'

const REGIONS = ['us-east-1', 'eu-west-1']
const INPUTS = {
  action: 'terminate',
  'max-age': '2h',
  resources: 'all',
  regions: REGIONS.join(','),
  'sns-topic-arn': DEFAULT_TOPIC_ARN,
  'estimate-cost': 'true',
  // The template marks its builds (run_tags incomplete, tags complete): interrupted images may go.
  'image-incomplete-tag': 'packer-build=incomplete',
  'delete-inherited-volumes': 'true'
}

const H = 3600
const PACKER_GROUP = 'Temporary group for Packer'
const now = Date.now()

/** Packer names a build's key pair and security group alike: `packer_<uuid>`, the uuid starting with the build time. */
const BUILD = {
  stale: packerName(3 * H, now),
  live: packerName(25 * 60, now),
  kept: packerName(6 * H, now),
  killed: packerName(5 * H, now),
  protected: packerName(4 * H, now),
  stoppedOrphan: packerName(26 * H, now)
}
/** Packer's temporary IAM instance profile and role (state `full`: the profile holds the role, which has its policy). */
const IAM = {
  killed: packerIamLeftovers({ ageSeconds: 5 * H, state: 'full', now, random: seeded(1) }),
  live: packerIamLeftovers({ ageSeconds: 25 * 60, state: 'full', now, random: seeded(2) }),
  kept: packerIamLeftovers({ ageSeconds: 6 * H, state: 'full', now, random: seeded(3) })
}

/** A small reproducible generator, so the three builds' IAM names differ. */
function seeded(seed: number): () => number {
  let state = seed
  return () => (state = (state * 48271) % 2147483647) / 2147483647
}

function demoIam(): IamSeed {
  const builds = Object.values(IAM)
  return {
    roles: builds.flatMap((build) => build.roles ?? []),
    instanceProfiles: builds.flatMap((build) => build.instanceProfiles ?? [])
  }
}

const GROUP = { stale: 'sg-0de300000000000a1', live: 'sg-0de300000000000a2', killed: 'sg-0de300000000000a3' }

/** The public image the builders start from: its data volume (/dev/sdf) is kept on termination. */
const SOURCE = { image: 'ami-0de300000000000b1', snapshot: 'snap-0de300000000000b1', owner: '137112412989' }
/** The stopped orphan's volumes: one inherited from the source image exactly, and a resized root (the template's). */
const VOLUME = { inherited: 'vol-0de300000000000c1', resizedRoot: 'vol-0de300000000000c2' }
const INCOMPLETE = { 'packer-build': 'incomplete' }
const ORPHAN_ID = 'i-0de300000000000d1'

/** The fleet; `profile` gives a seeded instance profile's reference (IAM is seeded first). */
function demoFleet(profile: (name: string) => IamInstanceProfileRef): FleetSeed {
  const builder = { Name: 'Packer Builder' }
  return {
    'us-east-1': {
      instances: [
        {
          ref: 'stale builder',
          keyName: BUILD.stale,
          age: '3h',
          tags: builder,
          securityGroupIds: [GROUP.stale],
          instanceType: 'c5.xlarge'
        },
        {
          ref: 'live build',
          keyName: BUILD.live,
          age: '25m',
          tags: builder,
          securityGroupIds: [GROUP.live],
          instanceType: 'c5.xlarge',
          iamInstanceProfile: profile(IAM.live.name)
        },
        {
          ref: 'kept for debugging',
          keyName: BUILD.kept,
          age: '6h',
          tags: { ...builder, 'packer-sweeper:keep': 'debugging the AMI' },
          instanceType: 't3.medium',
          iamInstanceProfile: profile(IAM.kept.name)
        },
        { ref: 'not Packer', keyName: 'deploy', age: '40d', tags: { Name: 'web-1' } }
      ],
      keyPairs: [
        { keyName: BUILD.stale, age: '3h' },
        { keyName: BUILD.live, age: '25m' },
        { keyName: BUILD.kept, age: '6h' },
        { keyName: BUILD.killed, age: '5h' },
        { keyName: 'deploy', age: '40d' }
      ],
      securityGroups: [
        { groupId: GROUP.stale, groupName: BUILD.stale, description: PACKER_GROUP },
        { groupId: GROUP.live, groupName: BUILD.live, description: PACKER_GROUP },
        { groupId: GROUP.killed, groupName: BUILD.killed, description: PACKER_GROUP }
      ]
    },
    'eu-west-1': {
      instances: [
        {
          ref: 'protected',
          keyName: BUILD.protected,
          age: '4h',
          tags: builder,
          disableApiTermination: true,
          instanceType: 'm5.large'
        },
        {
          ref: 'stopped orphan',
          id: ORPHAN_ID,
          keyName: BUILD.stoppedOrphan,
          age: '26h',
          state: 'stopped',
          tags: builder,
          instanceType: 'm5.large',
          imageId: SOURCE.image,
          blockDeviceMappings: [
            { deviceName: '/dev/xvda', volumeId: VOLUME.resizedRoot, size: 30, deleteOnTermination: false },
            {
              deviceName: '/dev/sdf',
              volumeId: VOLUME.inherited,
              snapshotId: SOURCE.snapshot,
              size: 50,
              deleteOnTermination: false
            }
          ]
        }
      ],
      snapshots: [{ snapshotId: SOURCE.snapshot, volumeSize: 50, ownerId: SOURCE.owner }],
      images: [
        {
          imageId: SOURCE.image,
          name: 'al2023-base',
          ownerId: SOURCE.owner,
          public: true,
          blockDeviceMappings: [
            { deviceName: '/dev/xvda', size: 8 },
            { deviceName: '/dev/sdf', snapshotId: SOURCE.snapshot, size: 50, deleteOnTermination: false }
          ]
        },
        // The job was cancelled while Packer waited for this image: it finished without Packer.
        {
          ref: 'interrupted build',
          name: 'web-interrupted',
          age: '25h',
          sourceInstanceId: ORPHAN_ID,
          tags: INCOMPLETE,
          snapshotTags: INCOMPLETE
        },
        // An earlier build of the same builder that finished: its last step overwrote the tag.
        {
          ref: 'finished build',
          name: 'web-finished',
          age: '25h',
          sourceInstanceId: ORPHAN_ID,
          tags: { 'packer-build': 'complete' }
        }
      ]
    }
  }
}

/** What a correct run does to the demo fleet; anything else is a bug worth a non-zero exit. */
const EXPECTED = {
  exitCode: 1,
  terminated: ['stale builder', 'stopped orphan'],
  failed: ['protected'],
  skipped: ['kept for debugging'],
  deletedKeyPairs: [BUILD.stale, BUILD.killed],
  deletedGroups: [GROUP.stale, GROUP.killed],
  /** The killed build's profile and role; the live build's (fresh) and the kept builder's (in use) stay. */
  removedIam: [IAM.killed.name],
  skippedIam: [IAM.kept.name],
  publishes: 1,
  /** Stale and running: the stale builder, the kept one and the protected one (the stopped orphan is not billed). */
  pricedRunning: 3,
  /** The stopped orphan's interrupted image, with its snapshot; the finished build's image stays. */
  deregisteredImages: ['interrupted build'],
  keptImages: ['finished build'],
  /** Only the volume inherited from the source image; the resized root is the template's. */
  deletedVolumes: [VOLUME.inherited],
  keptVolumes: [VOLUME.resizedRoot]
}

// ---- terminal rendering ----

/** Pads every column but the last to its widest cell; the last one may run long (error messages). */
function alignColumns(rows: string[][], header = true): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()
  const lines = rows.map(line)
  if (header && lines.length > 0) lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '))
  return lines.join('\n')
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16))
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10))
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole
  })
}

/** Inline HTML → plain text: links keep their target, every other tag goes. */
function inlineText(html: string): string {
  const linked = html.replace(
    /<a\s[^>]*href="([^"]*)"[^>]*>(.*?)<\/a>/gis,
    (_, href: string, text: string) => `${text} (${href})`
  )
  return decodeEntities(linked.replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]+>/g, ''))
    .replace(/\s+/g, ' ')
    .trim()
}

function renderTable(tableHtml: string): string {
  const rows = [...tableHtml.matchAll(/<tr[^>]*>(.*?)<\/tr>/gis)].map(([, row]) =>
    [...(row ?? '').matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gis)].map(([, cell]) => inlineText(cell ?? ''))
  )
  return alignColumns(rows, /<th[\s>]/i.test(tableHtml))
}

/** Stands in for a rendered table while the text around it is flattened (a private-use character, never in a summary). */
const TABLE_MARK = '\uE000'

/**
 * The job summary (core.summary writes HTML, Markdown passes through) as terminal text: headings
 * underlined, paragraphs and list items on their own lines, tables as aligned columns.
 */
export function summaryAsText(summary: string): string {
  const tables: string[] = []
  const underline: Record<string, string> = { '1': '=', '2': '=', '3': '-' }
  const html = summary.replace(/<table[^>]*>.*?<\/table>/gis, (table) => {
    tables.push(renderTable(table))
    return `\n${TABLE_MARK}${tables.length - 1}\n`
  })
  const text = html
    .replace(/<h([1-6])[^>]*>(.*?)<\/h\1>/gis, (_, level: string, title: string) => {
      const heading = inlineText(title)
      const rule = underline[level]
      return rule ? `\n\n${heading}\n${rule.repeat(heading.length)}\n` : `\n\n${heading}\n`
    })
    .replace(/<li[^>]*>(.*?)<\/li>/gis, (_, item: string) => `\n  • ${inlineText(item)}`)
    .replace(
      /<(p|div|summary|details|ul|ol|pre)[^>]*>(.*?)<\/\1>/gis,
      (_, _tag: string, inner: string) => `\n${inner}\n`
    )
    .split('\n')
    .map((line) => (line.startsWith(TABLE_MARK) ? `${tables[Number(line.slice(1))]}\n` : inlineText(line)))
    .join('\n')
  return text.replace(/\n{3,}/g, '\n\n').trim()
}

/** A workflow command's data or property as the runner unescapes it. */
const unescapeCommand = (text: string) =>
  text.replace(
    /%(0D|0A|3A|2C|25)/g,
    (_, code: string) => ({ '0D': '\r', '0A': '\n', '3A': ':', '2C': ',', '25': '%' })[code] ?? ''
  )

/**
 * The step log as the run page shows it: workflow commands are applied, not printed (masks and
 * stop-commands tokens vanish, a group is a ▸ heading over its indented lines, an annotation reads
 * `Error: …`), and nothing between `::stop-commands::<token>` and `::<token>::` counts as a command.
 */
export function logAsRunPage(stdout: string): string {
  const shown: string[] = []
  let stopToken: string | undefined
  let inGroup = false
  for (const line of stdout.split('\n')) {
    const pad = inGroup ? '    ' : ''
    if (stopToken !== undefined) {
      if (line === `::${stopToken}::`) stopToken = undefined
      else shown.push(pad + line)
      continue
    }
    const [, name, data = ''] = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line) ?? []
    if (name === undefined) shown.push(pad + line)
    else if (name === 'stop-commands') stopToken = data
    else if (name === 'group') {
      shown.push(`▸ ${unescapeCommand(data)}`)
      inGroup = true
    } else if (name === 'endgroup') inGroup = false
    else if (name === 'error' || name === 'warning' || name === 'notice')
      shown.push(`${pad}${name[0]?.toUpperCase()}${name.slice(1)}: ${unescapeCommand(data)}`)
    // Any other command (add-mask, set-output, …) shows nothing.
  }
  return shown.join('\n')
}

function section(title: string): void {
  console.log(`\n${'━'.repeat(3)} ${title} ${'━'.repeat(Math.max(3, 76 - title.length))}\n`)
}

function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => (prefix + line).trimEnd())
    .join('\n')
}

/** `packer_6b0826c5-a9ea-…`: the build time digits are what tell builds apart at a glance. */
function shortKey(keyName: string | undefined): string {
  if (!keyName) return '—'
  return keyName.length > 22 ? `${keyName.slice(0, 21)}…` : keyName
}

function changeOf(before: string, after: string): string {
  return before === after ? `${before} (unchanged)` : `${before} → ${after}`
}

// ---- before / after ----

type Snapshot = ReturnType<Sandbox['fleet']['snapshot']>

const ageSince = (time: Date) => formatAge((Date.now() - time.getTime()) / 1000)

function fleetTable(before: Snapshot, sandbox: Sandbox): string {
  const rows = before.instances.map((instance) => {
    const after = sandbox.fleet.instance(instance.id)?.state ?? 'gone'
    return [
      instance.region,
      instance.id,
      shortKey(instance.keyName),
      instance.tags.Name ?? '',
      ageSince(instance.launchTime),
      instance.ref ?? '',
      changeOf(instance.state, after)
    ]
  })
  return alignColumns([['Region', 'Instance', 'Key', 'Name', 'Age', 'What it is', 'State before → after'], ...rows])
}

interface Leftover {
  region: string
  kind: 'key pair' | 'security group'
  /** As the sandbox snapshot names it: `region/keyName` or `region/groupId`. */
  entry: string
  label: string
  age: string
}

/** Key pairs and groups as they are before the run: deleted ones cannot be looked up afterwards. */
function leftoversBefore(sandbox: Sandbox): Leftover[] {
  return [
    ...sandbox.fleet.keyPairs().map((k): Leftover => ({
      region: k.region,
      kind: 'key pair',
      entry: `${k.region}/${k.keyName}`,
      label: shortKey(k.keyName),
      age: k.createTime ? ageSince(k.createTime) : 'unknown'
    })),
    // AWS keeps no creation time for a group: Packer's name carries the build time instead.
    ...sandbox.fleet.securityGroups().map((g): Leftover => ({
      region: g.region,
      kind: 'security group',
      entry: `${g.region}/${g.groupId}`,
      label: `${g.groupId} ${shortKey(g.groupName)}`,
      age: ''
    }))
  ]
}

function leftoversTable(leftovers: Leftover[], sandbox: Sandbox): string {
  const after = sandbox.fleet.snapshot()
  const present = new Set([...after.keyPairs, ...after.securityGroups])
  const rows = leftovers.map((l) => [
    l.region,
    l.kind,
    l.label,
    l.age,
    changeOf('present', present.has(l.entry) ? 'present' : 'deleted')
  ])
  return alignColumns([['Region', 'Kind', 'Name / ID', 'Age', 'Before → after'], ...rows])
}

/** IAM names (profile and role share one) with what each holds, before the run. */
function iamBefore(sandbox: Sandbox): Map<string, string> {
  const what = new Map<string, string>()
  for (const profile of sandbox.iam.instanceProfiles)
    what.set(profile.instanceProfileName, profile.roles.length > 0 ? 'profile holding its role' : 'profile')
  for (const role of sandbox.iam.roles) {
    const policies = Object.keys(role.inlinePolicies).length > 0 ? ' with its inline policy' : ''
    what.set(role.roleName, `${what.get(role.roleName) ?? ''}${what.has(role.roleName) ? ', ' : ''}role${policies}`)
  }
  return what
}

const IAM_ROLES: Record<string, string> = {
  killed: 'killed build',
  live: 'live build (25m)',
  kept: 'builder kept for debugging'
}

function iamTable(before: Map<string, string>, sandbox: Sandbox): string {
  const rows = [...before].map(([name, what]) => {
    const left = sandbox.iam.instanceProfile(name) || sandbox.iam.role(name)
    const role = Object.entries(IAM).find(([, build]) => build.name === name)?.[0] ?? ''
    return [name, IAM_ROLES[role] ?? '', what, changeOf('present', left ? 'present' : 'deleted')]
  })
  return alignColumns([['Name (profile and role)', 'Whose', 'What is there', 'Before → after'], ...rows])
}

// ---- checking the run ----

const sorted = (list: Iterable<string>) => [...list].sort()
const sameList = (a: Iterable<string>, b: Iterable<string>) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))

/** The images still registered (the sandbox lists deregistered ones a while, as EC2 does). */
function registered(sandbox: Sandbox) {
  return sandbox.fleet.images().filter((image) => image.state !== 'deregistered')
}

/** The IDs of the images seeded under `refs`, from the snapshot taken before the run. */
function idsOfImages(before: Snapshot, refs: readonly string[]): string[] {
  return before.images.filter((image) => refs.includes(image.ref ?? '')).map((image) => image.imageId)
}

/** The account's own images and the builders' kept volumes, before → after. */
function ebsTable(before: Snapshot, sandbox: Sandbox): string {
  const images = before.images
    .filter((image) => image.ref !== undefined)
    .map((image) => [
      image.region,
      image.imageId,
      `image ${image.name}`,
      image.ref ?? '',
      changeOf(
        'present',
        sandbox.fleet.images().some((left) => left.imageId === image.imageId) ? 'present' : 'deregistered'
      )
    ])
  const volumes = before.volumes
    .filter((volume) => Object.values(VOLUME).includes(volume.volumeId))
    .map((volume) => [
      volume.region,
      volume.volumeId,
      `volume ${volume.size} GiB`,
      volume.volumeId === VOLUME.inherited ? 'inherited from the source image' : 'root resized by the template',
      changeOf(volume.state, sandbox.fleet.volume(volume.volumeId)?.state ?? 'deleted')
    ])
  return alignColumns([['Region', 'ID', 'What', 'What it is', 'Before → after'], ...images, ...volumes])
}

/** Every way this run differs from EXPECTED, in words; empty when the action behaved. */
function deviations(run: RunResult, before: Snapshot, sandbox: Sandbox): string[] {
  const problems: string[] = []
  const idsOf = (refs: string[]) => refs.map((ref) => sandbox.fleet.byRef(ref).id)
  const check = (what: string, actual: string[], expected: string[]) => {
    if (!sameList(actual, expected))
      problems.push(`${what}: expected ${JSON.stringify(sorted(expected))}, got ${JSON.stringify(sorted(actual))}`)
  }
  if (run.exitCode !== EXPECTED.exitCode) problems.push(`exit code: expected ${EXPECTED.exitCode}, got ${run.exitCode}`)
  const terminated = sandbox.fleet.instances().filter((i) => i.state === 'terminated' || i.state === 'shutting-down')
  check(
    'instances terminated in the sandbox',
    terminated.map((i) => i.id),
    idsOf(EXPECTED.terminated)
  )
  check(
    'instances whose state changed',
    sandbox.fleet
      .instances()
      .filter((i) => i.history.length > 1)
      .map((i) => i.id),
    idsOf(EXPECTED.terminated)
  )
  const list = (name: string): string[] => {
    try {
      return run.list(name)
    } catch {
      return [`<output ${name} missing>`]
    }
  }
  check('acted-ids', list('acted-ids'), idsOf(EXPECTED.terminated))
  check('failed-ids', list('failed-ids'), idsOf(EXPECTED.failed))
  check('skipped-ids', list('skipped-ids'), idsOf(EXPECTED.skipped))
  const after = sandbox.fleet.snapshot()
  check(
    'key pairs deleted',
    before.keyPairs.filter((k) => !after.keyPairs.includes(k)).map((k) => k.split('/')[1] ?? k),
    EXPECTED.deletedKeyPairs
  )
  check(
    'security groups deleted',
    before.securityGroups.filter((g) => !after.securityGroups.includes(g)).map((g) => g.split('/')[1] ?? g),
    EXPECTED.deletedGroups
  )
  const iamLeft = new Set([
    ...sandbox.iam.instanceProfiles.map((p) => p.instanceProfileName),
    ...sandbox.iam.roles.map((r) => r.roleName)
  ])
  check(
    'IAM profiles and roles removed',
    Object.values(IAM)
      .map((build) => build.name)
      .filter((name) => !iamLeft.has(name)),
    EXPECTED.removedIam
  )
  check('instance-profiles output', list('instance-profiles'), EXPECTED.removedIam)
  const iamSkipped = (run.report?.instanceProfiles ?? []).filter(
    (f) => f.outcome === 'skipped' && f.reason?.startsWith('in use by ')
  )
  check(
    'IAM skipped as in use',
    iamSkipped.map((f) => f.name),
    EXPECTED.skippedIam
  )
  const imagesLeft = new Set(registered(sandbox).map((image) => image.ref))
  check(
    'images deregistered',
    [...EXPECTED.deregisteredImages, ...EXPECTED.keptImages].filter((ref) => !imagesLeft.has(ref)),
    EXPECTED.deregisteredImages
  )
  check('images output', list('images'), idsOfImages(before, EXPECTED.deregisteredImages))
  check(
    'volumes deleted',
    [...EXPECTED.deletedVolumes, ...EXPECTED.keptVolumes].filter((id) => !sandbox.fleet.volume(id)),
    EXPECTED.deletedVolumes
  )
  check('volumes output', list('volumes'), EXPECTED.deletedVolumes)
  if (sandbox.published.length !== EXPECTED.publishes)
    problems.push(`SNS messages: expected ${EXPECTED.publishes}, got ${sandbox.published.length}`)
  if (run.report?.cost?.running !== EXPECTED.pricedRunning || run.report.cost.priceUnknown !== 0)
    problems.push(
      `cost estimate: expected ${EXPECTED.pricedRunning} running builders, all priced, got ${JSON.stringify(run.report?.cost ?? null)}`
    )
  return problems
}

function printOutputs(run: RunResult): void {
  const rows = Object.entries(run.outputs).map(([name, value]) => {
    // The report is the summary again as one JSON document: its size says more than its text.
    const shown = name === 'report' ? `${value.slice(0, 60)}… (${Buffer.byteLength(value)} bytes of JSON)` : value
    return [name, shown]
  })
  console.log(indent(alignColumns(rows, false)))
}

function printNotification(sandbox: Sandbox): void {
  const [message] = sandbox.published
  if (!message) return console.log('  (nothing was published)')
  // With MessageStructure=json, `default` is what e-mail and SMS subscribers get.
  const text =
    message.messageStructure === 'json'
      ? String((JSON.parse(message.message) as { default?: unknown }).default ?? '')
      : message.message
  console.log(`  Topic:   ${message.topicArn}`)
  console.log(`  Subject: ${message.subject ?? '(none)'}\n`)
  console.log(indent(text.trimEnd(), '  │ '))
  if (message.messageStructure === 'json')
    console.log(
      '\n  (The same Publish carries a JSON document for SQS, Lambda and HTTPS subscribers: every ID by outcome, then the findings.)'
    )
}

async function main(): Promise<number> {
  if (!existsSync(DIST)) {
    console.error(
      `${relative(ROOT, DIST)} is missing: the demo runs the bundled action. Build it first with 'npm run build'.`
    )
    return 2
  }
  const sandbox = await startSandbox({ iam: demoIam(), regions: REGIONS })
  try {
    sandbox.fleet.seed(
      demoFleet((name) => sandbox.iam.profileRef(name)),
      now
    )
    const before = sandbox.fleet.snapshot()
    const leftovers = leftoversBefore(sandbox)
    const iam = iamBefore(sandbox)
    console.log(
      `packer-sweeper demo: node ${relative(ROOT, DIST)} against a sandbox AWS account at ${sandbox.url} (no real AWS, no network).`
    )
    console.log(
      `Inputs: ${Object.entries(INPUTS)
        .map(([name, value]) => `${name}: ${value}`)
        .join(' · ')}`
    )

    const startedAt = performance.now()
    const run = await runAction({ sandbox, inputs: INPUTS })
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
    // npm run docs:summary-image takes the job summary as the action wrote it from here.
    if (process.env.PACKER_SWEEPER_DEMO_SUMMARY) writeFileSync(process.env.PACKER_SWEEPER_DEMO_SUMMARY, run.summary)

    section('Instances before → after')
    console.log(indent(fleetTable(before, sandbox)))
    section('Key pairs and security groups before → after')
    console.log(indent(leftoversTable(leftovers, sandbox)))
    section('IAM instance profiles and roles before → after (global)')
    console.log(indent(iamTable(iam, sandbox)))
    section('Images and volumes a cancelled build left, before → after')
    console.log(indent(ebsTable(before, sandbox)))
    section('Job summary (GITHUB_STEP_SUMMARY, rendered as text)')
    console.log(indent(summaryAsText(run.summary)))
    section('Outputs (GITHUB_OUTPUT)')
    printOutputs(run)
    section('SNS notification')
    printNotification(sandbox)
    section('Step log (as the run page shows it)')
    console.log(indent(logAsRunPage(run.stdout).trim()))
    if (run.stderr.trim() !== '') console.log(`\n  stderr:\n${indent(run.stderr.trim(), '  │ ')}`)

    section('Result')
    const problems = deviations(run, before, sandbox)
    console.log(
      `  The action exited with code ${run.exitCode} after ${seconds}s (${sandbox.calls.length} AWS requests to the sandbox).`
    )
    if (problems.length === 0) {
      console.log(
        '  As expected: exit 1 fails the step because the termination-protected builder in eu-west-1 could not be\n' +
          '  terminated (packer-sweeper never turns protection off). The builder tagged packer-sweeper:keep was skipped,\n' +
          '  and so were the key pair and the IAM profile it still uses; everything else stale was terminated or deleted.\n' +
          "  The cancelled build's image (still tagged incomplete) was deregistered with its snapshot and the volume it\n" +
          '  inherited from its source image deleted; the finished image and the resized root volume stay.'
      )
      return 0
    }
    console.log('  NOT as expected — the action misbehaved:')
    for (const problem of problems) console.log(`  ✗ ${problem}`)
    return 1
  } finally {
    await sandbox.close()
  }
}

process.exitCode = await main()
