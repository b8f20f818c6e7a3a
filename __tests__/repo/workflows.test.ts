/**
 * Every workflow in the repository (examples/workflows and .github/workflows) uses this action only
 * with inputs action.yml declares, and with literal values the action's own input parser accepts,
 * so renaming an input or tightening its validation cannot leave an example or the README wrong; and
 * the examples stay consistent with the Packer template and the README that explain them.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { parse } from 'yaml'

import { getInputs } from '../../src/inputs.js'
import { RESOURCE_KINDS, SWEEP_ACTIONS } from '../../src/types.js'
import { workflowFiles } from '../../scripts/lint-workflows.js'
import { readActionMetadata, ROOT } from '../../scripts/readme-tables.js'

/** How the examples refer to the published action (a placeholder owner, see README). */
export const PUBLISHED = 'packer-sweeper/packer-sweeper@v1'
const SELF = /^(?:\.\/?|packer-sweeper\/packer-sweeper@.+)$/

interface Step {
  name?: string
  id?: string
  uses?: string
  with?: Record<string, unknown>
}
interface Job {
  permissions?: Record<string, string> | string
  steps?: Step[]
}
interface Workflow {
  permissions?: Record<string, string> | string
  jobs?: Record<string, Job>
}

export interface SelfStep {
  file: string
  job: string
  step: Step
  permissions: Record<string, string> | string | undefined
}

/** The steps of a workflow that run this action, with the permissions their job gets. */
export function selfSteps(file: string, workflow: Workflow): SelfStep[] {
  return Object.entries(workflow.jobs ?? {}).flatMap(([job, spec]) =>
    (spec.steps ?? [])
      .filter((step) => typeof step.uses === 'string' && SELF.test(step.uses))
      .map((step) => ({ file, job, step, permissions: spec.permissions ?? workflow.permissions }))
  )
}

/** Inputs a step passes that action.yml does not declare, as readable problems. */
export function unknownInputs(steps: SelfStep[], declared: readonly string[]): string[] {
  return steps.flatMap(({ file, job, step }) =>
    Object.keys(step.with ?? {})
      .filter((input) => !declared.includes(input))
      .map((input) => `${file}: job ${job}, step "${step.name ?? step.uses}": unknown input ${input}`)
  )
}

/** A value GitHub only knows at run time (`${{ … }}` anywhere in it). */
const hasExpression = (value: unknown): boolean => String(value).includes('${{')

/**
 * What the action would read for a step: action.yml's defaults, overridden by the step's literal
 * `with:` values as the runner passes them (strings). Values with an expression are left out (their
 * input keeps its default): they can only be checked at run time.
 */
export function literalInputs(step: Step, defaults: Readonly<Record<string, string>>): Record<string, string> {
  const literal = Object.entries(step.with ?? {})
    .filter(([, value]) => !hasExpression(value))
    .map(([name, value]): [string, string] => [name, String(value)])
  return { ...defaults, ...Object.fromEntries(literal) }
}

/** Runs the inputs through the action's real parser, as core.getInput would hand them over (trimmed). */
export function parseInputs(inputs: Readonly<Record<string, string>>): void {
  getInputs((name) => (inputs[name] ?? '').trim(), { AWS_REGION: 'us-east-1' })
}

const read = (path: string): string => readFileSync(path, 'utf8')
const files = workflowFiles()
const workflows = files.map((path) => ({ file: relative(ROOT, path), workflow: parse(read(path)) as Workflow }))
const steps = workflows.flatMap(({ file, workflow }) => selfSteps(file, workflow))
const declared = Object.keys(readActionMetadata().inputs)
const defaults: Record<string, string> = Object.fromEntries(
  Object.entries(readActionMetadata().inputs).map(([name, input]) => [name, input.default === undefined ? '' : String(input.default)])
)
const isExample = (file: string): boolean => file.startsWith('examples/')
const isExpression = (value: unknown): boolean => typeof value === 'string' && /^\$\{\{.*\}\}$/s.test(value.trim())

describe('workflows that use this action', () => {
  it('finds the action in every example and in CI', () => {
    const using = new Set(steps.map((s) => s.file))
    for (const { file } of workflows.filter((w) => isExample(w.file))) expect(using).toContain(file)
    expect(using).toContain('.github/workflows/ci.yml')
  })

  it('passes only inputs that action.yml declares', () => {
    expect(unknownInputs(steps, declared)).toEqual([])
  })

  it('would report a renamed input', () => {
    const renamed = selfSteps('renamed.yml', {
      jobs: { sweep: { steps: [{ uses: PUBLISHED, with: { 'max-age': '2h', 'max-runtime': 2 } }, { uses: './', with: { regoins: 'all' } }] } }
    })
    expect(unknownInputs(renamed, declared)).toEqual([
      'renamed.yml: job sweep, step "packer-sweeper/packer-sweeper@v1": unknown input max-runtime',
      'renamed.yml: job sweep, step "./": unknown input regoins'
    ])
  })

  it('refers to the published action by its placeholder name in the examples, to the checkout in CI', () => {
    for (const { file, step } of steps) {
      expect(`${file}: ${step.uses}`).toBe(`${file}: ${isExample(file) ? PUBLISHED : './'}`)
    }
  })

  it('uses only allowed values for action and resources, unless they come from an expression', () => {
    for (const { step } of steps) {
      const { action, resources } = step.with ?? {}
      if (action !== undefined && !isExpression(action)) expect(SWEEP_ACTIONS).toContain(action)
      if (resources !== undefined && !isExpression(resources)) {
        for (const kind of String(resources).split(/[\s,]+/).filter(Boolean)) expect([...RESOURCE_KINDS, 'all']).toContain(kind)
      }
    }
  })

  it('passes literal values the action accepts: each step, over action.yml\'s defaults, parses without error', () => {
    const examples = steps.filter(({ file }) => isExample(file))
    expect(examples.length).toBeGreaterThan(0)
    const problems = steps.flatMap(({ file, job, step }) => {
      try {
        parseInputs(literalInputs(step, defaults))
        return []
      } catch (error) {
        return [`${file}: job ${job}, step "${step.name ?? step.uses}": ${error instanceof Error ? error.message : String(error)}`]
      }
    })
    expect(problems).toEqual([])
  })

  it('would report an invalid literal value, and leaves expressions to run time', () => {
    const [bad, later] = selfSteps('bad.yml', {
      jobs: {
        sweep: {
          steps: [
            { uses: PUBLISHED, with: { 'max-age': '2x', regions: 'all' } },
            { uses: PUBLISHED, with: { 'max-age': '${{ inputs.max_age }}', action: 'terminate', 'dry-run': true } }
          ]
        }
      }
    })
    expect(() => parseInputs(literalInputs(bad?.step ?? {}, defaults))).toThrow(/max-age/)
    const deferred = literalInputs(later?.step ?? {}, defaults)
    expect(deferred).toMatchObject({ 'max-age': defaults['max-age'], action: 'terminate', 'dry-run': 'true' })
    expect(() => parseInputs(deferred)).not.toThrow()
  })

  it('grants id-token: write wherever role-to-assume is used', () => {
    const withRole = steps.filter(({ step }) => step.with?.['role-to-assume'] !== undefined)
    expect(withRole.length).toBeGreaterThan(0)
    for (const { file, job, permissions } of withRole) {
      const idToken = typeof permissions === 'object' ? permissions['id-token'] : permissions
      expect(`${file} ${job}: id-token ${idToken}`).toBe(`${file} ${job}: id-token write`)
    }
  })

  it('gives the manual sweep typed inputs with dry-run on by default, all mapped to the action', () => {
    const manual = parse(read(resolve(ROOT, 'examples/workflows/manual-sweep.yml'))) as {
      on: { workflow_dispatch: { inputs: Record<string, { type: string; default?: unknown; options?: string[] }> } }
    }
    const inputs = manual.on.workflow_dispatch.inputs
    expect(inputs.dry_run).toMatchObject({ type: 'boolean', default: true })
    expect(inputs.action).toMatchObject({ type: 'choice', default: 'notify' })
    expect(inputs.action?.options).toEqual([...SWEEP_ACTIONS])
    const [sweep] = steps.filter((s) => s.file === 'examples/workflows/manual-sweep.yml')
    for (const name of Object.keys(inputs)) {
      const mapped = Object.entries(sweep?.step.with ?? {}).find(([, value]) => String(value).includes(`inputs.${name}`))
      expect(`${name} → ${mapped?.[0]}`).toBe(`${name} → ${name.replace(/_/g, '-')}`)
    }
  })

  it('sweeps exactly the run the Packer template tags', () => {
    const hcl = read(resolve(ROOT, 'examples/packer/build.pkr.hcl'))
    const build = read(resolve(ROOT, 'examples/workflows/packer-build.yml'))
    const [cleanup] = steps.filter((s) => s.file === 'examples/workflows/packer-build.yml')
    expect(cleanup?.step.with).toMatchObject({ 'max-age': '0', tags: 'github-run-id=${{ github.run_id }}', resources: 'all' })
    expect((parse(build) as { jobs: { build: { steps: Array<Step & { if?: string }> } } }).jobs.build.steps.at(-1)?.if).toBe('always()')
    expect(build).toContain('-var "github_run_id=${{ github.run_id }}"')
    expect(hcl).toMatch(/variable "github_run_id"/)
    expect(hcl).toMatch(/"github-run-id"\s*=\s*var\.github_run_id/)
    expect(hcl).toMatch(/run_tags\s*=\s*local\.run_tags/)
    // A spot build's launch template gets spot_tags, not run_tags: the same tags, or tags: misses it.
    expect(hcl).toMatch(/spot_tags\s*=\s*var\.spot_price != "" \? local\.run_tags : null/)
  })

  it('lists every input with its default in the local .env example (dry-run deliberately on)', () => {
    const env = read(resolve(ROOT, 'examples/local.env'))
    const given = Object.fromEntries([...env.matchAll(/^INPUT_([A-Z-]+)=(.*)$/gm)].map((m) => [(m[1] as string).toLowerCase(), m[2]]))
    const defaults = Object.fromEntries(Object.entries(readActionMetadata().inputs).map(([name, input]) => [name, input.default ?? '']))
    expect(given).toEqual({ ...defaults, 'dry-run': 'true' })
  })

  it('explains every example in the README', () => {
    const readme = read(resolve(ROOT, 'README.md'))
    for (const file of [...workflows.map((w) => w.file).filter(isExample), 'examples/packer/build.pkr.hcl', 'examples/local.env']) {
      expect(readme).toContain(file)
    }
  })
})
