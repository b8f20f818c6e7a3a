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

import { buildNotifications } from '../../src/report/notification.js'
import { iamLeftover, instance, orphan, report as reportFixture } from '../../__fixtures__/report.js'
import { getInputs } from '../../src/inputs.js'
import { SWEEP_ACTIONS } from '../../src/model/types.js'
import { KIND_NAMES } from '../../src/kinds/names.js'
import { KIND_MODULES } from '../../src/kinds/registry.js'
import { workflowFiles } from '../../scripts/lint-workflows.js'
import { collectPins, readWorkflows, SELF_REPO, syncPins, unpinned, usesLines } from '../../scripts/sync-pins.js'
import { readActionMetadata, ROOT } from '../../scripts/readme-tables.js'
import { parseTemplate, render, TemplateError } from './cloudformation.js'

/** How the examples refer to the published action (a placeholder owner, see README). */
export const PUBLISHED = 'packer-sweeper/packer-sweeper@v1'
/** The post-build tag value: unique to one job of one attempt of one run (README, "Post-build step"). */
const JOB_VALUE = '${{ github.run_id }}-${{ github.run_attempt }}-${{ github.job }}-${{ strategy.job-index }}'
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

/** Stands for what an expression inside a literal gives at run time: digits fit a run ID and an account ID alike. */
const RUN_TIME_VALUE = '123456789012'

/** A value that is one expression and nothing else (`${{ inputs.max_age }}`). */
const isOnlyExpression = (value: unknown): boolean => /^\$\{\{[^}]*\}\}$/.test(String(value).trim())

/**
 * What the action would read for a step: action.yml's defaults, overridden by the step's literal
 * `with:` values as the runner passes them (strings). A value that is only an expression is left
 * out (its input keeps its default): it can only be checked at run time. Each expression inside a
 * literal (`packer-sweeper-job=${{ github.run_id }}-${{ github.run_attempt }}-…`) stands for a run-time
 * value: RUN_TIME_VALUE is put in its place, so the literal around it is still checked.
 */
export function literalInputs(step: Step, defaults: Readonly<Record<string, string>>): Record<string, string> {
  const literal = Object.entries(step.with ?? {})
    .filter(([, value]) => !isOnlyExpression(value))
    .map(([name, value]): [string, string] => [name, String(value).replace(/\$\{\{[^}]*\}\}/g, RUN_TIME_VALUE)])
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
  Object.entries(readActionMetadata().inputs).map(([name, input]) => [
    name,
    input.default === undefined ? '' : String(input.default)
  ])
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
      jobs: {
        sweep: {
          steps: [
            { uses: PUBLISHED, with: { 'max-age': '2h', 'max-runtime': 2 } },
            { uses: './', with: { regoins: 'all' } }
          ]
        }
      }
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
        for (const kind of String(resources)
          .split(/[\s,]+/)
          .filter(Boolean))
          expect([...KIND_NAMES, 'all']).toContain(kind)
      }
    }
  })

  it("passes literal values the action accepts: each step, over action.yml's defaults, parses without error", () => {
    const examples = steps.filter(({ file }) => isExample(file))
    expect(examples.length).toBeGreaterThan(0)
    const problems = steps.flatMap(({ file, job, step }) => {
      try {
        parseInputs(literalInputs(step, defaults))
        return []
      } catch (error) {
        return [
          `${file}: job ${job}, step "${step.name ?? step.uses}": ${error instanceof Error ? error.message : String(error)}`
        ]
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
      const mapped = Object.entries(sweep?.step.with ?? {}).find(([, value]) =>
        String(value).includes(`inputs.${name}`)
      )
      expect(`${name} → ${mapped?.[0]}`).toBe(`${name} → ${name.replace(/_/g, '-')}`)
    }
  })

  it('sweeps exactly the job the Packer template tags, never the other jobs of the same run', () => {
    const hcl = read(resolve(ROOT, 'examples/packer/build.pkr.hcl'))
    const build = parse(read(resolve(ROOT, 'examples/workflows/packer-build.yml'))) as {
      jobs: { build: { steps: AnyStep[] } }
    }
    const [cleanup] = steps.filter((s) => s.file === 'examples/workflows/packer-build.yml')
    expect(cleanup?.step.with).toMatchObject({
      'max-age': '0',
      tags: `packer-sweeper-job=${JOB_VALUE}`,
      resources: 'all'
    })
    // Every job of a run (every matrix job too) shares github.run_id: the value must also carry the
    // attempt, the job and its index in the matrix, or one job's cleanup terminates the others' builders.
    for (const part of ['github.run_id', 'github.run_attempt', 'github.job', 'strategy.job-index']) {
      expect(String(cleanup?.step.with?.tags)).toContain(`\${{ ${part} }}`)
    }
    expect((cleanup?.step as AnyStep | undefined)?.if).toBe('always()')
    const packer = build.jobs.build.steps.find((step) => step.run?.includes('packer build'))
    expect(packer?.env).toEqual({ PACKER_SWEEPER_JOB: JOB_VALUE })
    expect(packer?.run).toContain('-var "packer_sweeper_job=$PACKER_SWEEPER_JOB"')
    expect(hcl).toMatch(/variable "packer_sweeper_job"/)
    expect(hcl).toMatch(/"packer-sweeper-job"\s*=\s*var\.packer_sweeper_job/)
    expect(hcl).not.toMatch(/github_run_id|"github-run-id"/)
    expect(hcl).toMatch(/run_tags\s*=\s*local\.run_tags/)
    // A spot build's launch template gets spot_tags, not run_tags: the same tags, or tags: misses it.
    expect(hcl).toMatch(/spot_tags\s*=\s*var\.spot_price != "" \? local\.run_tags : null/)
  })

  it('recommend the per-job tag, never the run ID alone, wherever the docs and examples show a post-build tags value', () => {
    const docs = [
      'README.md',
      'SECURITY.md',
      'CHANGELOG.md',
      'RELEASING.md',
      'scripts/demo.ts',
      ...files.map((path) => relative(ROOT, path))
    ]
    const runIdOnly = /tags:\s*[\w:.-]+=\$\{\{ github\.run_id \}\}(?!-)/
    const offenders = docs.flatMap((file) =>
      read(resolve(ROOT, file))
        .split('\n')
        .map((line, index) => ({ line, where: `${file}:${index + 1}` }))
        .filter(({ line }) => runIdOnly.test(line))
        .map(({ where }) => where)
    )
    expect(offenders).toEqual([])
  })

  it('lists every input with its default in the local .env example (dry-run deliberately on)', () => {
    const env = read(resolve(ROOT, 'examples/local.env'))
    const given = Object.fromEntries(
      [...env.matchAll(/^INPUT_([A-Z-]+)=(.*)$/gm)].map((m) => [(m[1] as string).toLowerCase(), m[2]])
    )
    const defaults = Object.fromEntries(
      Object.entries(readActionMetadata().inputs).map(([name, input]) => [name, input.default ?? ''])
    )
    expect(given).toEqual({ ...defaults, 'dry-run': 'true' })
  })

  it('explains every example in the README', () => {
    const readme = read(resolve(ROOT, 'README.md'))
    for (const file of [
      ...workflows.map((w) => w.file).filter(isExample),
      'examples/packer/build.pkr.hcl',
      'examples/local.env',
      'examples/chatbot/chatbot.yml'
    ]) {
      expect(readme).toContain(file)
    }
  })
})

interface AnyStep extends Step {
  if?: string
  env?: Record<string, unknown>
  run?: string
}
interface Concurrency {
  group?: string
  'cancel-in-progress'?: boolean
}
interface AnyJob {
  'timeout-minutes'?: unknown
  concurrency?: Concurrency | string
  if?: string
  uses?: string
  env?: Record<string, unknown>
  needs?: string | string[]
  outputs?: Record<string, string>
  permissions?: Record<string, string> | string
  strategy?: { 'fail-fast'?: boolean; 'max-parallel'?: number; matrix?: Record<string, unknown> }
  steps?: AnyStep[]
}
const examples = workflows
  .filter(({ file }) => isExample(file))
  .map(({ file, workflow }) => ({
    file,
    workflow: workflow as {
      env?: Record<string, unknown>
      concurrency?: Concurrency | string
      jobs: Record<string, AnyJob>
    }
  }))
/** The example that cleans up after its own Packer build; every other example is a sweep of an account. */
const POST_BUILD = 'examples/workflows/packer-build.yml'
/** Every job of an example that runs the sweep, with that step. */
const sweepJobs = examples.flatMap(({ file, workflow }) =>
  Object.entries(workflow.jobs).flatMap(([name, job]) =>
    (job.steps ?? []).filter((step) => step.uses === PUBLISHED).map((step) => ({ file, name, job, step }))
  )
)
const example = (name: string) => {
  const found = examples.find(({ file }) => file === `examples/workflows/${name}`)
  if (!found) throw new Error(`examples/workflows/${name} is missing`)
  return found.workflow
}
/** The report output itself, not report-file: `outputs.report` not followed by a name character or `-`. */
const REPORT_OUTPUT = /outputs\.report(?![\w-])|outputs\[['"]report['"]\]/

describe('the examples', () => {
  it('set timeout-minutes on every job (a hung sweep must not burn six hours of runner time)', () => {
    const missing = examples.flatMap(({ file, workflow }) =>
      Object.entries(workflow.jobs)
        .filter(
          ([, job]) =>
            job.uses === undefined && !(typeof job['timeout-minutes'] === 'number' && job['timeout-minutes'] > 0)
        )
        .map(([name]) => `${file}: job ${name}`)
    )
    expect(missing).toEqual([])
  })

  it('never pass the report output through env: (one variable is limited to 128 KiB, E2BIG)', () => {
    const envs = examples.flatMap(({ file, workflow }) => [
      { where: `${file}`, env: workflow.env },
      ...Object.entries(workflow.jobs).flatMap(([name, job]) => [
        { where: `${file}: job ${name}`, env: job.env },
        ...(job.steps ?? []).map((step) => ({
          where: `${file}: job ${name}, step "${step.name ?? step.id ?? step.uses}"`,
          env: step.env
        }))
      ])
    ])
    const through = envs.flatMap(({ where, env }) =>
      Object.entries(env ?? {})
        .filter(([, value]) => REPORT_OUTPUT.test(String(value)))
        .map(([name]) => `${where}: env ${name}`)
    )
    expect(through).toEqual([])
    expect(REPORT_OUTPUT.test('${{ steps.sweep.outputs.report }}')).toBe(true)
    expect(REPORT_OUTPUT.test('${{ steps.sweep.outputs.report-file }}')).toBe(false)
  })

  it('give the sweep step an id and keep its report by uploading its report-file, never a copy of the output, in every job', () => {
    expect(new Set(sweepJobs.map(({ file }) => file))).toEqual(new Set(examples.map(({ file }) => file)))
    const problems = sweepJobs.flatMap(({ file, name, job, step }) => {
      const where = `${file}: job ${name}`
      if (!step.id) return [`${where}: the sweep step has no id`]
      const uploads = (job.steps ?? []).filter((s) => s.uses?.startsWith('actions/upload-artifact@'))
      const keeps = uploads.filter((s) => s.with?.path === `\${{ steps.${step.id}.outputs.report-file }}`)
      return keeps.length === 1 && keeps[0]?.if?.includes(`steps.${step.id}.outputs.report-file != ''`)
        ? []
        : [`${where}: no upload of \${{ steps.${step.id}.outputs.report-file }} when there is one`]
    })
    expect(problems).toEqual([])
  })

  it("name each job's report artifact apart, so the jobs of one run (a matrix) do not clash", () => {
    const perJob = sweepJobs.filter(({ file, job }) => job.strategy?.matrix !== undefined || file === POST_BUILD)
    expect(perJob.map(({ file }) => file).sort()).toEqual([
      'examples/workflows/many-accounts.yml',
      'examples/workflows/org-sweep.yml',
      'examples/workflows/packer-build.yml'
    ])
    for (const { file, job } of perJob) {
      const upload = job.steps?.find((s) => s.uses?.startsWith('actions/upload-artifact@'))
      expect(`${file}: ${String(upload?.with?.name)}`).toMatch(/\$\{\{ (matrix\.\w+|strategy\.job-index) \}\}/)
    }
  })

  it('share one concurrency group per account: the role the job assumes, in every sweeping example, never cancelling', () => {
    const sweeping = sweepJobs.filter(({ file }) => file !== POST_BUILD)
    expect(new Set(sweeping.map(({ file }) => file)).size).toBe(examples.length - 1)
    for (const { file, name, job, step } of sweeping) {
      const role = step.with?.['role-to-assume']
      expect(typeof role).toBe('string')
      expect({ where: `${file}: job ${name}`, concurrency: job.concurrency }).toEqual({
        where: `${file}: job ${name}`,
        concurrency: { group: `packer-sweeper-${String(role)}`, 'cancel-in-progress': false }
      })
    }
    // The scheduled and the manual sweep of one account: the same group, so the manual one waits.
    const groupOf = (name: string) =>
      sweepJobs.find(({ file }) => file === `examples/workflows/${name}`)?.job.concurrency
    expect(groupOf('manual-sweep.yml')).toEqual(groupOf('scheduled-sweep.yml'))
    expect(groupOf('slack-notify.yml')).toEqual(groupOf('scheduled-sweep.yml'))
  })

  it('keep the post-build cleanup out of every concurrency group: it must run right after its own build', () => {
    const build = example('packer-build.yml')
    expect(build.concurrency).toBeUndefined()
    for (const job of Object.values(build.jobs)) expect(job.concurrency).toBeUndefined()
  })

  it('post to Slack with slackapi/slack-github-action v2 and an incoming webhook, from count, acted-ids and the run URL', () => {
    const job = example('slack-notify.yml').jobs.sweep
    const steps = job?.steps ?? []
    const sweep = steps.find((step) => step.uses === PUBLISHED)
    const slack = steps.find((step) => step.uses?.startsWith('slackapi/slack-github-action@'))
    expect(slack?.uses).toMatch(/^slackapi\/slack-github-action@[0-9a-f]{40}$/)
    const pinned = usesLines(read(resolve(ROOT, 'examples/workflows/slack-notify.yml'))).find(
      (u) => u.action === 'slackapi/slack-github-action'
    )
    expect(pinned?.version).toMatch(/^v2\./)
    expect(slack?.with).toEqual({
      webhook: '${{ secrets.SLACK_WEBHOOK_URL }}',
      'webhook-type': 'incoming-webhook',
      payload: expect.stringMatching(/^\$\{\{ steps\.([\w-]+)\.outputs\.payload \}\}$/)
    })
    const composeId = /steps\.([\w-]+)\.outputs\.payload/.exec(String(slack?.with?.payload))?.[1]
    const compose = steps.find((step) => step.id === composeId)
    expect(compose?.env).toMatchObject({
      COUNT: `\${{ steps.${sweep?.id}.outputs.count }}`,
      ACTED_IDS: `\${{ steps.${sweep?.id}.outputs.acted-ids }}`,
      RUN_URL: '${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}'
    })
    // The outputs are set also when the sweep fails: the message goes out then too.
    expect(compose?.if).toMatch(/!cancelled\(\)/)
    expect(slack?.if).toMatch(/!cancelled\(\)/)
  })

  it("sweep every active account of the organisation, one matrix job each, within GitHub's 256 jobs per run", () => {
    const org = example('org-sweep.yml')
    const accounts = org.jobs.accounts
    const sweep = org.jobs.sweep
    const list = accounts?.steps?.find((step) => step.id === 'list')
    expect(list?.run).toContain('aws organizations list-accounts')
    expect(list?.run).toMatch(/select\(\(\.State \/\/ \.Status\) == "ACTIVE"\)/)
    expect(list?.run).toContain('>> "$GITHUB_OUTPUT"')
    expect(accounts?.outputs?.accounts).toBe('${{ steps.list.outputs.accounts }}')
    expect(sweep?.needs).toBe('accounts')
    expect(sweep?.strategy).toMatchObject({
      'fail-fast': false,
      matrix: { account: '${{ fromJSON(needs.accounts.outputs.accounts) }}' }
    })
    expect(sweep?.strategy?.['max-parallel']).toBeGreaterThan(0)
    expect(Number(org.env?.SHARD_SIZE)).toBeLessThanOrEqual(256)
    expect(org.jobs['next-shard']?.if).toContain('needs.accounts.outputs.next-shard')
    const step = sweep?.steps?.find((s) => s.uses === PUBLISHED)
    expect(step?.with?.['role-to-assume']).toBe(
      'arn:aws:iam::${{ matrix.account }}:role/${{ vars.PACKER_SWEEPER_ROLE_NAME }}'
    )
  })
})

describe('pinned actions', () => {
  const { own, examples: exampleTexts } = readWorkflows()
  const { pins, problems } = collectPins(own)

  it('pin every third-party action by full commit SHA with its release in a comment, in every workflow', () => {
    expect(unpinned([...own, ...exampleTexts])).toEqual([])
    // The line reader sees every `uses:` the YAML holds: none escapes it by quoting or layout.
    const parsedUses = (text: string): string[] =>
      Object.values((parse(text) as { jobs: Record<string, AnyJob & { uses?: string }> }).jobs).flatMap((job) => [
        ...(job.uses ? [job.uses] : []),
        ...(job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : []))
      ])
    for (const { file, text } of [...own, ...exampleTexts]) {
      const remote = parsedUses(text).filter((uses) => !uses.startsWith('./'))
      expect(`${file}: ${usesLines(text).map((u) => `${u.action}@${u.ref}`)}`).toBe(`${file}: ${remote}`)
    }
  })

  it('pin an action the repository workflows also use at the same commit in the examples (npm run sync-pins)', () => {
    expect(problems).toEqual([])
    expect(pins.size).toBeGreaterThan(0)
    const drifted = exampleTexts.flatMap(({ file, text }) =>
      syncPins(text, pins).changes.map((change) => `${file} ${change}`)
    )
    expect(drifted).toEqual([])
  })

  it('sync-pins rewrites a drifted pin and its version, and leaves the placeholder, local actions and the rest alone', () => {
    const sha = 'a'.repeat(40)
    const known = new Map([['actions/checkout', { sha, version: 'v5.1.0' }]])
    const text = [
      'steps:',
      `  - uses: actions/checkout@${'b'.repeat(40)} # v5.0.0`,
      '  - uses: actions/checkout@v5',
      `  - uses: ${SELF_REPO}@v1`,
      '  - uses: ./',
      `  - uses: other/action@${'c'.repeat(40)} # v1.2.3`
    ].join('\n')
    const synced = syncPins(text, known)
    expect(synced.text.split('\n')).toEqual([
      'steps:',
      `  - uses: actions/checkout@${sha} # v5.1.0`,
      `  - uses: actions/checkout@${sha} # v5.1.0`,
      `  - uses: ${SELF_REPO}@v1`,
      '  - uses: ./',
      `  - uses: other/action@${'c'.repeat(40)} # v1.2.3`
    ])
    expect(synced.changes).toHaveLength(2)
    expect(syncPins(synced.text, known).changes).toEqual([])
    expect(unpinned([{ file: 'x.yml', text }])).toEqual([
      'x.yml:3: actions/checkout@v5 is not pinned as <40-hex commit SHA> # v<version>'
    ])
    // One repository at two commits in the repository's own workflows is refused: which would the examples take?
    const twice = collectPins([
      { file: 'a.yml', text: synced.text.replace(`${sha} # v5.1.0`, `${'d'.repeat(40)} # v5.2.0`) }
    ])
    expect(twice.problems).toHaveLength(1)
    // github/codeql-action/init and /analyze are one repository, one pin.
    expect(
      collectPins([
        {
          file: 'c.yml',
          text: `- uses: github/codeql-action/init@${sha} # v4.1.0\n- uses: github/codeql-action/analyze@${sha} # v4.1.0`
        }
      ]).problems
    ).toEqual([])
  })

  it('let Dependabot keep the pins current: npm and github-actions, the latter over .github/workflows and the examples', () => {
    const config = parse(read(resolve(ROOT, '.github/dependabot.yml'))) as {
      updates: Array<{
        'package-ecosystem': string
        directory?: string
        directories?: string[]
        ignore?: Array<{ 'dependency-name': string }>
      }>
    }
    const ecosystem = (name: string) => config.updates.find((update) => update['package-ecosystem'] === name)
    expect(ecosystem('npm')?.directory).toBe('/')
    const actions = ecosystem('github-actions')
    expect(actions?.directories).toEqual(['/', '/examples/workflows'])
    expect(actions?.ignore).toContainEqual({ 'dependency-name': SELF_REPO })
    expect(read(resolve(ROOT, 'package.json'))).toContain('"sync-pins": "tsx scripts/sync-pins.ts"')
  })
})

describe('the AWS Chatbot example (examples/chatbot/chatbot.yml)', () => {
  const template = parseTemplate(read(resolve(ROOT, 'examples/chatbot/chatbot.yml')))
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:packer-sweeper-NotificationTopic-EXAMPLE'
  const rendered = render(template, { TopicArn: topicArn, SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD' })
  const byType = (type: string) => Object.entries(rendered.resources).filter(([, resource]) => resource.Type === type)

  it('subscribes a Slack channel to a topic that the packer-sweeper topic feeds', () => {
    const [[, channel] = ['', undefined]] = byType('AWS::Chatbot::SlackChannelConfiguration')
    expect(channel?.Properties).toMatchObject({
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0123ABCD',
      SnsTopicArns: ['ref:ChatbotTopic']
    })
    expect(rendered.resources.ChatbotTopic?.Type).toBe('AWS::SNS::Topic')
    const subscriptions = byType('AWS::SNS::Subscription').map(([, s]) => s.Properties)
    expect(subscriptions).toEqual([
      { TopicArn: topicArn, Protocol: 'lambda', Endpoint: 'getatt:ForwarderFunction.Arn' }
    ])
    const [[, permission] = ['', undefined]] = byType('AWS::Lambda::Permission')
    expect(permission?.Properties).toMatchObject({
      Principal: 'sns.amazonaws.com',
      SourceArn: topicArn,
      FunctionName: 'ref:ForwarderFunction'
    })
    expect(rendered.resources.ForwarderFunction?.Properties.Environment).toEqual({
      Variables: { CHATBOT_TOPIC_ARN: 'ref:ChatbotTopic' }
    })
  })

  it('accepts the TopicArn output of deploy/cloudformation.yml and nothing else', () => {
    expect(() =>
      render(template, { TopicArn: 'packer-sweeper', SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD' })
    ).toThrow(TemplateError)
  })

  it('turns a report into an AWS Chatbot custom notification on the Chatbot topic', async () => {
    const code = String((rendered.resources.ForwarderFunction?.Properties.Code as { ZipFile: string }).ZipFile)
    const sent: Array<{ TopicArn: string; Message: string }> = []
    class PublishCommand {
      constructor(readonly input: { TopicArn: string; Message: string }) {}
    }
    const fakeRequire = (name: string) => {
      if (name !== '@aws-sdk/client-sns') throw new Error(`unexpected require ${name}`)
      return {
        SNSClient: class {
          send = async (command: PublishCommand) => void sent.push(command.input)
        },
        PublishCommand
      }
    }
    const module = { exports: {} as { handler?: (event: unknown) => Promise<void> } }
    process.env.CHATBOT_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:chatbot'
    try {
      new Function('require', 'module', 'exports', code)(fakeRequire, module, module.exports)
      // The message packer-sweeper really publishes: its `lambda` key is what the function receives.
      const sample = reportFixture({
        instances: [instance({ id: 'i-0abc', region: 'eu-west-1', name: 'packer', outcome: 'terminated' })],
        keyPairs: [orphan({ id: 'key-1', name: 'packer_1', region: 'eu-west-1', outcome: 'deleted' })],
        instanceProfiles: [iamLeftover({ id: 'packer-1', name: 'packer-1', outcome: 'deleted' })],
        run: { runUrl: 'https://github.com/o/r/actions/runs/1' }
      })
      const [part] = buildNotifications(KIND_MODULES, sample, topicArn)
      const lambda = (JSON.parse(part?.message ?? '{}') as { lambda: string }).lambda
      await module.exports.handler?.({
        Records: [{ Sns: { Subject: 'packer-sweeper: 1 terminated', Message: lambda } }]
      })
    } finally {
      delete process.env.CHATBOT_TOPIC_ARN
    }
    expect(sent).toHaveLength(1)
    expect(sent[0]?.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:chatbot')
    const notification = JSON.parse(sent[0]?.Message ?? '{}')
    expect(notification).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: 'packer-sweeper: 1 terminated' }
    })
    expect(notification.content.description).toContain('instance `i-0abc` (eu-west-1): terminated')
    expect(notification.content.description).toContain('key pair `key-1` (eu-west-1): deleted')
    // Every list of the message, whatever kinds it has: nothing is kept by a list in the forwarder.
    expect(notification.content.description).toContain('instance profile `packer-1` (global): deleted')
    expect(notification.content.description).toContain('<https://github.com/o/r/actions/runs/1|The workflow run>')
  })
})
