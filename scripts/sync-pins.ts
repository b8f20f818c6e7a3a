/**
 * Keeps the actions that examples/workflows/ pins at the commits the repository's own workflows
 * (.github/workflows/) pin them at.
 *
 * Every third-party action is pinned by its full commit SHA with the release in a comment
 * (`uses: actions/checkout@<40 hex> # v5.1.0`). Dependabot (.github/dependabot.yml, github-actions)
 * bumps those pins in .github/workflows/ and, listed there as a second directory, in
 * examples/workflows/ too. Should the two drift apart anyway (a pin bumped by hand, a Dependabot pull
 * request for one directory only), this script copies the pins of .github/workflows/ into the
 * examples, and the repository test (__tests__/repo/workflows.test.ts) fails until it has:
 *
 *   npm run sync-pins               rewrite examples/workflows/*.yml
 *   npm run sync-pins -- --check    exit 1 when an example differs, change nothing
 *
 * The pins are read line by line: a YAML parser drops the comment that carries the version.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

import { workflowFiles } from './lint-workflows.js'
import { ROOT } from './readme-tables.js'

/** The examples' placeholder for this action (see README): a moving tag on purpose, never pinned here. */
export const SELF_REPO = 'packer-sweeper/packer-sweeper'
export const OWN_WORKFLOWS = '.github/workflows/'
export const EXAMPLE_WORKFLOWS = 'examples/workflows/'

/** `uses: owner/repo[/path]@ref # version`, as a step (`- uses:`) or a key of a mapping. */
const USES_LINE = /^(\s*(?:-\s+)?uses:\s+)([^\s#@'"]+)@([^\s#'"]+)(?:\s+#\s*(\S+).*|\s*)$/
const FULL_SHA = /^[0-9a-f]{40}$/

export interface Uses {
  /** 1-based line number. */
  line: number
  /** What comes before the action: indentation, `- `, `uses: `. */
  prefix: string
  /** owner/repo[/path] */
  action: string
  ref: string
  /** The first word of the comment after the pin, the release it stands for. */
  version: string | undefined
}

export interface Pin {
  sha: string
  version: string
}

export interface WorkflowText {
  file: string
  text: string
}

/** The `uses:` lines of a workflow that name a repository action (local `./…` actions have no `@`). */
export function usesLines(text: string): Uses[] {
  return text.split('\n').flatMap((content, index) => {
    const match = USES_LINE.exec(content)
    if (!match) return []
    const [, prefix = '', action = '', ref = '', version] = match
    return [{ line: index + 1, prefix, action, ref, version }]
  })
}

/** owner/repo of an action: a pin belongs to the repository, `github/codeql-action/init` and `/analyze` share one. */
export const repositoryOf = (action: string): string => action.split('/').slice(0, 2).join('/')

const isSelf = (uses: Uses): boolean => repositoryOf(uses.action) === SELF_REPO

/** Every third-party `uses:` that is not pinned by a full commit SHA with its version in a comment. */
export function unpinned(workflows: readonly WorkflowText[]): string[] {
  return workflows.flatMap(({ file, text }) =>
    usesLines(text)
      .filter(
        (uses) => !isSelf(uses) && !(FULL_SHA.test(uses.ref) && uses.version !== undefined && /^v\d/.test(uses.version))
      )
      .map(
        (uses) => `${file}:${uses.line}: ${uses.action}@${uses.ref} is not pinned as <40-hex commit SHA> # v<version>`
      )
  )
}

/** The pin of every repository the given workflows use; a repository pinned at two commits is a problem. */
export function collectPins(workflows: readonly WorkflowText[]): { pins: Map<string, Pin>; problems: string[] } {
  const pins = new Map<string, Pin & { where: string }>()
  const problems: string[] = []
  for (const { file, text } of workflows) {
    for (const uses of usesLines(text)) {
      if (isSelf(uses) || !FULL_SHA.test(uses.ref) || uses.version === undefined) continue
      const repository = repositoryOf(uses.action)
      const where = `${file}:${uses.line}`
      const known = pins.get(repository)
      if (!known) pins.set(repository, { sha: uses.ref, version: uses.version, where })
      else if (known.sha !== uses.ref || known.version !== uses.version) {
        problems.push(
          `${where}: ${repository} is pinned at ${uses.ref} # ${uses.version}, but at ${known.sha} # ${known.version} in ${known.where}`
        )
      }
    }
  }
  return { pins: new Map([...pins].map(([repository, { sha, version }]) => [repository, { sha, version }])), problems }
}

/** The workflow with every action that `pins` knows pinned as there; `changes` says what moved. */
export function syncPins(text: string, pins: ReadonlyMap<string, Pin>): { text: string; changes: string[] } {
  const lines = text.split('\n')
  const changes: string[] = []
  for (const uses of usesLines(text)) {
    const pin = pins.get(repositoryOf(uses.action))
    if (isSelf(uses) || !pin || (uses.ref === pin.sha && uses.version === pin.version)) continue
    lines[uses.line - 1] = `${uses.prefix}${uses.action}@${pin.sha} # ${pin.version}`
    changes.push(
      `line ${uses.line}: ${uses.action}@${uses.ref}${uses.version ? ` # ${uses.version}` : ''} → @${pin.sha} # ${pin.version}`
    )
  }
  return { text: lines.join('\n'), changes }
}

/** The repository's workflows, split into its own and the examples. */
export function readWorkflows(root = ROOT): { own: WorkflowText[]; examples: WorkflowText[] } {
  const all = workflowFiles(root).map((path) => ({ file: relative(root, path), text: readFileSync(path, 'utf8') }))
  return {
    own: all.filter(({ file }) => file.startsWith(OWN_WORKFLOWS)),
    examples: all.filter(({ file }) => file.startsWith(EXAMPLE_WORKFLOWS))
  }
}

function main(argv: string[]): number {
  const check = argv.includes('--check')
  const { own, examples } = readWorkflows()
  const { pins, problems } = collectPins(own)
  const synced = examples.map(({ file, text }) => ({ file, ...syncPins(text, pins) }))
  const stale = synced.filter(({ changes }) => changes.length > 0)
  for (const { file, changes } of stale) for (const change of changes) console.log(`${file} ${change}`)
  if (!check) for (const { file, text } of stale) writeFileSync(resolve(ROOT, file), text)
  // An action only the examples use has no pin to copy: it must be pinned in the example itself.
  problems.push(...unpinned([...own, ...(check ? examples : synced)]))
  for (const problem of problems) console.error(problem)
  if (problems.length > 0) return 1
  if (stale.length === 0) console.log(`The examples pin every action ${OWN_WORKFLOWS} uses at the same commit.`)
  else if (check)
    console.error(
      `${stale.length} example(s) pin actions at other commits than ${OWN_WORKFLOWS}: run npm run sync-pins.`
    )
  else console.log(`Rewrote ${stale.length} example(s) to the pins of ${OWN_WORKFLOWS}.`)
  return check && stale.length > 0 ? 1 : 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2))
}
