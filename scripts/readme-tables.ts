/**
 * Generates the README's inputs and outputs tables from action.yml, the source of truth, and its
 * table of kinds from the kinds' registry (src/kinds/registry.ts).
 *
 *   npm run docs          rewrite README.md between the table markers
 *   npm run docs -- --check   exit 1 when README.md is stale (what the repo test also checks)
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'
import { isAccountLeftoverKind, KIND_MODULES } from '../src/kinds/registry.js'

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

export const MARKERS = {
  inputs: ['<!-- inputs:start (generated from action.yml by npm run docs) -->', '<!-- inputs:end -->'],
  outputs: ['<!-- outputs:start (generated from action.yml by npm run docs) -->', '<!-- outputs:end -->'],
  kinds: ['<!-- kinds:start (generated from src/kinds/registry.ts by npm run docs) -->', '<!-- kinds:end -->']
} as const

export function readActionMetadata(root = ROOT): ActionMetadata {
  const doc = parse(readFileSync(resolve(root, 'action.yml'), 'utf8')) as Partial<ActionMetadata> | null
  if (!doc || typeof doc.inputs !== 'object' || typeof doc.outputs !== 'object') {
    throw new Error('action.yml has no inputs or outputs mapping')
  }
  return { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} }
}

/** One table cell: a single line, pipes escaped so a description cannot split the row. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim()
}

/** Inline code that survives backticks inside the value. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`'
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

export function inputsTable(meta: ActionMetadata): string {
  const rows = Object.entries(meta.inputs).map(([name, input]) => {
    const fallback = input.default === undefined || input.default === '' ? '*(empty)*' : code(String(input.default))
    const required = input.required === true ? 'yes' : 'no'
    return `| ${code(name)} | ${cell(fallback)} | ${required} | ${cell(input.description)} |`
  })
  return ['| Input | Default | Required | Description |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

export function outputsTable(meta: ActionMetadata): string {
  const rows = Object.entries(meta.outputs).map(([name, output]) => `| ${code(name)} | ${cell(output.description)} |`)
  return ['| Output | Description |', '| --- | --- |', ...rows].join('\n')
}

/** The kinds of the registry: what each is, its outputs, and the IAM actions it needs per action. */
export function kindsTable(): string {
  const actions = (permissions: readonly string[]) => (permissions.length > 0 ? permissions.map(code).join(', ') : '—')
  const rows = KIND_MODULES.map((kind) => {
    const outputs = kind.outputs.map((output) => code(output.name)).join(', ')
    const { read, stop, terminate } = kind.permissions
    const elsewhere =
      isAccountLeftoverKind(kind) && kind.instanceUse ? `; ${code(kind.instanceUse.elsewhere)} in the enabled regions no listing of live instances covers` : ''
    return `| ${code(kind.name)} | ${cell(kind.description)} | ${outputs} | ${actions(read)}${elsewhere} | ${actions(stop)} | ${actions(terminate)} |`
  })
  return [
    '| `resources` | What it sweeps | Outputs | IAM actions to read | and to stop | and to terminate |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows
  ].join('\n')
}

function replaceBetween(text: string, [start, end]: readonly [string, string], body: string): string {
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < 0 || to < from) throw new Error(`README.md lacks the markers ${start} … ${end}`)
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`
}

/** README with its tables regenerated; everything outside the markers is kept as it is. */
export function renderReadme(readme: string, meta: ActionMetadata): string {
  const withInputs = replaceBetween(readme, MARKERS.inputs, inputsTable(meta))
  const withOutputs = replaceBetween(withInputs, MARKERS.outputs, outputsTable(meta))
  return replaceBetween(withOutputs, MARKERS.kinds, kindsTable())
}

function main(argv: string[]): number {
  const path = resolve(ROOT, 'README.md')
  const current = readFileSync(path, 'utf8')
  const expected = renderReadme(current, readActionMetadata())
  if (argv.includes('--check')) {
    if (current === expected) return 0
    console.error('README.md tables differ from action.yml or the kinds registry: run npm run docs and commit README.md.')
    return 1
  }
  if (current !== expected) writeFileSync(path, expected)
  console.log(current === expected ? 'README.md is up to date.' : 'README.md tables regenerated from action.yml and the kinds registry.')
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2))
}
