/**
 * Generates what the kinds' registry (src/kinds/registry.ts) and action.yml can write, so that a new
 * kind or input is not copied by hand into the files that list them:
 *
 * - action.yml: the kinds the `resources` input names and the kinds' outputs (scripts/generate/action.ts);
 * - the documentation's tables, from action.yml, the source of truth for inputs and outputs, and from the
 *   registry: README.md gets short tables (a type, the default and the first sentence of each description)
 *   that link to the full text in docs/;
 * - the IAM actions of deploy/, from the permission oracle (scripts/generate/deploy.ts): deploy/iam-policy.json
 *   whole (JSON has no comments to hold markers), and lists in deploy/cloudformation.yml and
 *   deploy/terraform/main.tf.
 *
 *   npm run docs              rewrite every generated block (between its markers) in GENERATED_FILES, and WHOLE_FILES
 *   npm run docs -- --check   exit 1 when a file is stale (what the repo test also checks)
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'
import { KIND_MODULES } from '../src/kinds/registry.js'
import { isAccountLeftoverKind } from '../src/engine/kind.js'
import { kindOutputs, resourcesDescription } from './generate/action.js'
import { keptChanges, leftoverReads, permissionList, renderIamPolicy } from './generate/deploy.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export interface ActionInput {
  description: string
  required?: boolean
  default?: string
}

export interface ActionMetadata {
  inputs: Record<string, ActionInput>
  outputs: Record<string, { description: string }>
}

export function readActionMetadata(root = ROOT): ActionMetadata {
  const doc = parse(readFileSync(resolve(root, 'action.yml'), 'utf8')) as Partial<ActionMetadata> | null
  if (!doc || typeof doc.inputs !== 'object' || typeof doc.outputs !== 'object') {
    throw new Error('action.yml has no inputs or outputs mapping')
  }
  return { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} }
}

/** What a user may write for an input, in one word; TYPE_LEGEND says what each word allows. */
export type InputType = 'duration' | 'choice' | 'list' | 'keys' | 'lines' | 'boolean' | 'number' | 'ARN' | 'string'

/**
 * The type of every input. action.yml has no place for it (GitHub passes every input as a string)
 * and src/inputs.ts knows it only as a parser, so it is written here; a test checks that every input
 * of action.yml has one and that each default is a value of its type.
 */
export const INPUT_TYPES: Record<string, InputType> = {
  'max-age': 'duration',
  action: 'choice',
  regions: 'list',
  resources: 'list',
  'key-name': 'list',
  tags: 'lines',
  'delete-custom-key-pairs': 'boolean',
  'instance-states': 'list',
  'exclude-tag': 'keys',
  'max-instances': 'number',
  'max-resources': 'number',
  'region-timeout': 'duration',
  'dry-run': 'boolean',
  'sns-topic-arn': 'ARN',
  'role-to-assume': 'ARN',
  'role-session-name': 'string',
  audience: 'string',
  'fail-on-stale': 'boolean',
  'estimate-cost': 'boolean',
  'image-incomplete-tag': 'string',
  'delete-inherited-volumes': 'boolean'
}

export const TYPE_LEGEND: Record<InputType, string> = {
  duration: 'a number with units `d`, `h`, `m`, `s` (`90m`, `2h`, `1h30m`)',
  choice: 'one of the values the description names',
  list: 'values separated by commas, spaces or newlines',
  keys: 'tag keys separated by commas or newlines (a key may contain spaces)',
  lines: '`Key=Value`, one per line',
  boolean: '`true` or `false`',
  number: 'a whole number, `0` for none',
  ARN: 'an Amazon Resource Name, or empty',
  string: 'text'
}

/** What a step reads from an output (every output is a string; this is what the string holds). */
export type OutputType = 'JSON array' | 'JSON' | 'number' | 'boolean' | 'path'

export const OUTPUT_TYPES: Record<string, OutputType> = {
  'instance-ids': 'JSON array',
  count: 'number',
  'acted-ids': 'JSON array',
  'failed-ids': 'JSON array',
  'skipped-ids': 'JSON array',
  'key-pairs': 'JSON array',
  'security-groups': 'JSON array',
  'launch-templates': 'JSON array',
  'instance-profiles': 'JSON array',
  images: 'JSON array',
  volumes: 'JSON array',
  'report-file': 'path',
  'outputs-truncated': 'boolean',
  report: 'JSON'
}

/** The longest description a short table shows; the full text is one link away. */
export const SUMMARY_MAX = 160

/** The phrase every list input repeats; the type column's `list` says it once. */
const LIST_SEPARATORS = /,? separated by commas, spaces or newlines/

/**
 * A description's short form for the README: its first sentence without the remarks in
 * parentheses or the list separators, cut at its first `;` when still longer than SUMMARY_MAX.
 * Throws when even that is too long, so action.yml's first sentence stays a summary.
 */
export function summarize(name: string, description: string): string {
  const text = oneLine(description)
  const first = text.split(/(?<=\.)\s+(?=[A-Z0-9'])/)[0] ?? text
  let short = first
    .replace(/\s*\([^()]*\)/g, '')
    .replace(LIST_SEPARATORS, '')
    .trim()
  if (short.length > SUMMARY_MAX && short.includes(';')) short = `${short.slice(0, short.indexOf(';'))}.`
  if (short.length > SUMMARY_MAX) {
    throw new Error(
      `${name}: the first sentence of its description in action.yml is ${short.length} characters; shorten it to ${SUMMARY_MAX}: "${short}"`
    )
  }
  return short
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/** One table cell: a single line, pipes escaped so a description cannot split the row. */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|')
}

/** Inline code that survives backticks inside the value. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`'
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

function typeOf<T>(types: Record<string, T>, what: string, name: string): T {
  const type = types[name]
  if (type === undefined)
    throw new Error(`${what} ${name} has no type: add it to ${what.toUpperCase()}_TYPES in scripts/readme-tables.ts`)
  return type
}

const inputType = (name: string): InputType => typeOf(INPUT_TYPES, 'input', name)
const outputType = (name: string): OutputType => typeOf(OUTPUT_TYPES, 'output', name)

function defaultOf(input: ActionInput): string {
  if (input.required === true && (input.default === undefined || input.default === '')) return '**required**'
  return input.default === undefined || input.default === '' ? '*(empty)*' : code(String(input.default))
}

/** Where docs/inputs.md explains an input in full: its `### `name`` heading. */
export const inputLink = (name: string): string => `docs/inputs.md#${name}`

/** README: every input with its type, default and first sentence, linked to its section in docs/inputs.md. */
export function inputsTable(meta: ActionMetadata): string {
  const rows = Object.entries(meta.inputs).map(
    ([name, input]) =>
      `| [${code(name)}](${inputLink(name)}) | ${inputType(name)} | ${cell(defaultOf(input))} | ${cell(summarize(name, input.description))} |`
  )
  return ['| Input | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

/** docs/inputs.md: the types' legend, then one section per input with its full description. */
export function inputsReference(meta: ActionMetadata): string {
  const used = [...new Set(Object.keys(meta.inputs).map(inputType))]
  const legend = [
    '| Type | What it takes |',
    '| --- | --- |',
    ...used.map((type) => `| ${type} | ${TYPE_LEGEND[type]} |`)
  ]
  const sections = Object.entries(meta.inputs).map(([name, input]) =>
    [
      `### ${code(name)}`,
      '',
      `Type: ${inputType(name)} · Default: ${defaultOf(input)} · Required: ${input.required === true ? 'yes' : 'no'}`,
      '',
      oneLine(input.description)
    ].join('\n')
  )
  return [...legend, '', ...sections.flatMap((section) => [section, ''])].join('\n').trimEnd()
}

/** README: every output with what it holds and its first sentence. */
export function outputsTable(meta: ActionMetadata): string {
  const rows = Object.entries(meta.outputs).map(([name, output]) => {
    const type = outputType(name)
    // "JSON array of the names …" under the type `JSON array`: the type says it once.
    const short = summarize(name, output.description).replace(
      new RegExp(`^${type} of (the )?(.)`),
      (_, _the, first: string) => first.toUpperCase()
    )
    return `| ${code(name)} | ${type} | ${cell(short)} |`
  })
  return ['| Output | Type | Description |', '| --- | --- | --- |', ...rows].join('\n')
}

/** docs/report.md: every output with its full description. */
export function outputsReference(meta: ActionMetadata): string {
  const rows = Object.entries(meta.outputs).map(
    ([name, output]) => `| ${code(name)} | ${outputType(name)} | ${cell(output.description)} |`
  )
  return ['| Output | Type | Description |', '| --- | --- | --- |', ...rows].join('\n')
}

/** README: the kinds and what each sweeps (docs/permissions.md adds their outputs and IAM actions). */
export function kindsSummaryTable(): string {
  const rows = KIND_MODULES.map((kind) => `| ${code(kind.name)} | ${cell(kind.description)} |`)
  return ['| `resources` | What it sweeps |', '| --- | --- |', ...rows].join('\n')
}

/** docs/permissions.md: the kinds with the IAM actions each needs per action. */
export function kindsTable(): string {
  const actions = (permissions: readonly string[]) => (permissions.length > 0 ? permissions.map(code).join(', ') : '—')
  const rows = KIND_MODULES.map((kind) => {
    const outputs = kind.outputs.map((output) => code(output.name)).join(', ')
    const { read, stop, terminate } = kind.permissions
    const elsewhere =
      isAccountLeftoverKind(kind) && kind.instanceUse
        ? `; ${code(kind.instanceUse.elsewhere)} in the enabled regions no listing of live instances covers`
        : ''
    return `| ${code(kind.name)} | ${cell(kind.description)} | ${outputs} | ${actions(read)}${elsewhere} | ${actions(stop)} | ${actions(terminate)} |`
  })
  return [
    '| `resources` | What it sweeps | Outputs | IAM actions to read | and to stop | and to terminate |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows
  ].join('\n')
}

/** A heading of a Markdown file, outside code blocks, with the anchor GitHub gives it. */
export interface Heading {
  level: number
  text: string
  anchor: string
}

/**
 * GitHub's anchor for a heading's text (github-slugger): the rendered text lower-cased, every
 * character but letters, digits, spaces, `-` and `_` dropped, spaces made `-`.
 */
export function githubAnchor(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/** Every heading of a Markdown text, in order; a repeated anchor gets `-1`, `-2`, … as on GitHub. */
export function headingsOf(markdown: string): Heading[] {
  const seen = new Map<string, number>()
  const found: Heading[] = []
  let fence: string | undefined
  for (const line of markdown.split('\n')) {
    const opening = /^\s*(```+|~~~+)/.exec(line)
    if (opening) {
      const marker = opening[1] as string
      if (fence === undefined) fence = marker
      else if (marker.startsWith(fence)) fence = undefined
      continue
    }
    const heading = fence === undefined ? /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line) : null
    if (!heading) continue
    const text = heading[2] as string
    const base = githubAnchor(text)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    found.push({ level: (heading[1] as string).length, text, anchor: count === 0 ? base : `${base}-${count}` })
  }
  return found
}

/** The heading the table of contents sits under; it does not list itself. */
export const CONTENTS_HEADING = 'Contents'

/** README: a list of its `##` headings, in order, linked by GitHub's anchors. */
export function tableOfContents(readme: string): string {
  return headingsOf(readme)
    .filter((heading) => heading.level === 2 && heading.text !== CONTENTS_HEADING)
    .map((heading) => `- [${heading.text.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')}](#${heading.anchor})`)
    .join('\n')
}

/** Where a block is written: its file (whose syntax it follows) and the indentation of its start marker. */
export interface BlockPlace {
  file: string
  indent: string
}

const ORACLE = 'src/report/required-permissions.ts'

/**
 * Every generated block: where its data comes from, and how it is rendered (from the metadata, the
 * file's own text and where the block sits; each line is indented like the block's start marker).
 */
export const BLOCKS = {
  contents: { source: 'the headings below', render: (_meta: ActionMetadata, text: string) => tableOfContents(text) },
  inputs: { source: 'action.yml', render: inputsTable },
  outputs: { source: 'action.yml', render: outputsTable },
  kinds: { source: 'src/kinds/registry.ts', render: kindsSummaryTable },
  'inputs-reference': { source: 'action.yml', render: inputsReference },
  'outputs-reference': { source: 'action.yml', render: outputsReference },
  'kinds-reference': { source: 'src/kinds/registry.ts', render: kindsTable },
  'kinds-list': {
    source: 'src/kinds/registry.ts',
    render: (_meta, _text, at) => resourcesDescription(KIND_MODULES, at.indent.length)
  },
  'kind-outputs': {
    source: 'src/kinds/registry.ts',
    render: (_meta, _text, at) => kindOutputs(KIND_MODULES, at.indent.length)
  },
  'leftover-reads': {
    source: ORACLE,
    render: (_meta, _text, at) => permissionList(at.file, leftoverReads(KIND_MODULES))
  },
  'kept-ec2-changes': {
    source: ORACLE,
    render: (_meta, _text, at) => permissionList(at.file, keptChanges(KIND_MODULES, 'ec2'))
  },
  'kept-iam-changes': {
    source: ORACLE,
    render: (_meta, _text, at) => permissionList(at.file, keptChanges(KIND_MODULES, 'iam'))
  }
} satisfies Record<string, { source: string; render(meta: ActionMetadata, text: string, at: BlockPlace): string }>

export type BlockName = keyof typeof BLOCKS

/**
 * The files that hold generated blocks, and which. action.yml comes first: npm run docs writes it
 * before the documentation that is generated from it.
 */
export const GENERATED_FILES: Record<string, BlockName[]> = {
  'action.yml': ['kinds-list', 'kind-outputs'],
  'README.md': ['contents', 'kinds', 'inputs', 'outputs'],
  'docs/inputs.md': ['inputs-reference'],
  'docs/report.md': ['outputs-reference'],
  'docs/permissions.md': ['kinds-reference'],
  'deploy/cloudformation.yml': ['leftover-reads', 'kept-ec2-changes', 'kept-iam-changes'],
  'deploy/terraform/main.tf': ['leftover-reads', 'kept-ec2-changes', 'kept-iam-changes']
}

/** The files generated whole, for want of comments to hold markers (JSON). */
export const WHOLE_FILES: Record<string, { source: string; render(): string }> = {
  'deploy/iam-policy.json': { source: ORACLE, render: () => renderIamPolicy(KIND_MODULES) }
}

/** Every generated file, in the order npm run docs writes them. */
export const GENERATED_PATHS: readonly string[] = [...Object.keys(GENERATED_FILES), ...Object.keys(WHOLE_FILES)]

/** A block's start and end lines, in the comment syntax of its file: HTML comments in Markdown, `#` in YAML and Terraform. */
export function markers(name: BlockName, file = 'README.md'): readonly [string, string] {
  const start = `${name}:start (generated from ${BLOCKS[name].source} by npm run docs)`
  return extname(file) === '.md' ? [`<!-- ${start} -->`, `<!-- ${name}:end -->`] : [`# ${start}`, `# ${name}:end`]
}

const START_MARKER = /(?:<!--|#) ([a-z0-9-]+):start \(generated from ([^)]*) by npm run docs\)/

/** The names of the generated blocks a text holds, in order. */
export function blocksIn(text: string): string[] {
  return [...text.matchAll(new RegExp(START_MARKER, 'g'))].map((match) => match[1] as string)
}

/** The lines between a block's markers replaced by its rendering, indented like its start marker. */
function replaceBetween(file: string, text: string, name: BlockName, render: (at: BlockPlace) => string): string {
  const [start, end] = markers(name, file)
  const lines = text.split('\n')
  const from = lines.findIndex((line) => line.trim() === start)
  const to = lines.findIndex((line, index) => index > from && line.trim() === end)
  if (from < 0 || to < 0) throw new Error(`${file} lacks the markers ${start} … ${end}, each on a line of its own`)
  const indent = /^\s*/.exec(lines[from] as string)?.[0] ?? ''
  const body = render({ file, indent })
    .split('\n')
    .map((line) => (line === '' ? line : `${indent}${line}`))
  return [...lines.slice(0, from + 1), ...body, ...lines.slice(to)].join('\n')
}

/** A file as it should be: its blocks regenerated, everything outside the markers kept as it is; or generated whole. */
export function renderGenerated(file: string, text: string, meta: ActionMetadata): string {
  const whole = WHOLE_FILES[file]
  if (whole) return whole.render()
  const names = GENERATED_FILES[file]
  if (!names) throw new Error(`${file} holds no generated blocks`)
  return names.reduce(
    (current, name) => replaceBetween(file, current, name, (at) => BLOCKS[name].render(meta, current, at)),
    text
  )
}

/**
 * Why a generated file is stale, naming it, its first line that differs and where that line is
 * generated from; undefined when it is current.
 */
export function staleness(file: string, text: string, meta: ActionMetadata): string | undefined {
  const expected = renderGenerated(file, text, meta)
  if (expected === text) return undefined
  const current = text.split('\n')
  const wanted = expected.split('\n')
  let line = 0
  while (current[line] === wanted[line]) line++
  const whole = WHOLE_FILES[file]
  const block = current
    .slice(0, line + 1)
    .reverse()
    .map((text) => START_MARKER.exec(text))
    .find((match) => match !== null)
  const where = whole
    ? `generated whole from ${whole.source}`
    : block
      ? `the block ${block[1]}, generated from ${block[2]}`
      : 'a generated block'
  return `${file} is stale at line ${line + 1} (${where}): run npm run docs and commit the result`
}

/** README.md with its tables regenerated. */
export function renderReadme(readme: string, meta: ActionMetadata): string {
  return renderGenerated('README.md', readme, meta)
}

function main(argv: string[]): number {
  const check = argv.includes('--check')
  const stale: string[] = []
  for (const file of GENERATED_PATHS) {
    // Read for each file: the documentation is generated from action.yml as npm run docs just wrote it.
    const meta = readActionMetadata()
    const path = resolve(ROOT, file)
    const current = readFileSync(path, 'utf8')
    const problem = staleness(file, current, meta)
    if (problem === undefined) continue
    stale.push(file)
    if (check) console.error(problem)
    else writeFileSync(path, renderGenerated(file, current, meta))
  }
  if (check && stale.length > 0) return 1
  console.log(
    stale.length === 0
      ? 'The generated files are up to date.'
      : `Regenerated from action.yml, the kinds registry and the permission oracle: ${stale.join(', ')}.`
  )
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2))
}
