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

import { buildNotifications } from '../../src/notification.js'
import { iamLeftover, instance, orphan, report as reportFixture } from '../../__fixtures__/report.js'
import { getInputs } from '../../src/inputs.js'
import { SWEEP_ACTIONS } from '../../src/types.js'
import { KIND_NAMES } from '../../src/kinds/registry.js'
import { workflowFiles } from '../../scripts/lint-workflows.js'
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
 * out (its input keeps its default): it can only be checked at run time. An expression inside a
 * literal (`github-run-id=${{ github.run_id }}`) stands for a run-time value: RUN_TIME_VALUE is put in its place,
 * so the literal around it is still checked.
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

  it('sweeps exactly the job the Packer template tags, never the other jobs of the same run', () => {
    const hcl = read(resolve(ROOT, 'examples/packer/build.pkr.hcl'))
    const build = parse(read(resolve(ROOT, 'examples/workflows/packer-build.yml'))) as { jobs: { build: { steps: AnyStep[] } } }
    const [cleanup] = steps.filter((s) => s.file === 'examples/workflows/packer-build.yml')
    expect(cleanup?.step.with).toMatchObject({ 'max-age': '0', tags: `packer-sweeper-job=${JOB_VALUE}`, resources: 'all' })
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
    const docs = ['README.md', 'SECURITY.md', 'CHANGELOG.md', 'RELEASING.md', 'scripts/demo.ts', ...files.map((path) => relative(ROOT, path))]
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
    const given = Object.fromEntries([...env.matchAll(/^INPUT_([A-Z-]+)=(.*)$/gm)].map((m) => [(m[1] as string).toLowerCase(), m[2]]))
    const defaults = Object.fromEntries(Object.entries(readActionMetadata().inputs).map(([name, input]) => [name, input.default ?? '']))
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
interface AnyJob {
  'timeout-minutes'?: unknown
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
  .map(({ file, workflow }) => ({ file, workflow: workflow as { env?: Record<string, unknown>; jobs: Record<string, AnyJob> } }))
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
        .filter(([, job]) => job.uses === undefined && !(typeof job['timeout-minutes'] === 'number' && job['timeout-minutes'] > 0))
        .map(([name]) => `${file}: job ${name}`)
    )
    expect(missing).toEqual([])
  })

  it('never pass the report output through env: (one variable is limited to 128 KiB, E2BIG)', () => {
    const envs = examples.flatMap(({ file, workflow }) => [
      { where: `${file}`, env: workflow.env },
      ...Object.entries(workflow.jobs).flatMap(([name, job]) => [
        { where: `${file}: job ${name}`, env: job.env },
        ...(job.steps ?? []).map((step) => ({ where: `${file}: job ${name}, step "${step.name ?? step.id ?? step.uses}"`, env: step.env }))
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

  it('keep the report by uploading report-file of the sweep step, never a copy of the output', () => {
    const uploads = examples.flatMap(({ file, workflow }) =>
      Object.values(workflow.jobs).flatMap((job) => {
        const sweepIds = (job.steps ?? []).filter((step) => step.uses === PUBLISHED && step.id).map((step) => step.id)
        return (job.steps ?? [])
          .filter((step) => step.uses?.startsWith('actions/upload-artifact@'))
          .map((step) => ({ file, path: String(step.with?.path), sweepIds }))
      })
    )
    expect(uploads.map((u) => u.file)).toEqual(expect.arrayContaining(['examples/workflows/scheduled-sweep.yml', 'examples/workflows/org-sweep.yml']))
    for (const { file, path, sweepIds } of uploads) {
      const id = /^\$\{\{ steps\.([\w-]+)\.outputs\.report-file \}\}$/.exec(path)?.[1]
      expect(`${file}: ${id ?? path}`).toBe(`${file}: ${sweepIds.find((s) => s === id) ?? 'steps.<sweep id>.outputs.report-file'}`)
    }
  })

  it('post to Slack with slackapi/slack-github-action v2 and an incoming webhook, from count, acted-ids and the run URL', () => {
    const job = example('slack-notify.yml').jobs.sweep
    const steps = job?.steps ?? []
    const sweep = steps.find((step) => step.uses === PUBLISHED)
    const slack = steps.find((step) => step.uses?.startsWith('slackapi/slack-github-action@'))
    expect(slack?.uses).toBe('slackapi/slack-github-action@v2')
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
    expect(sweep?.strategy).toMatchObject({ 'fail-fast': false, matrix: { account: '${{ fromJSON(needs.accounts.outputs.accounts) }}' } })
    expect(sweep?.strategy?.['max-parallel']).toBeGreaterThan(0)
    expect(Number(org.env?.SHARD_SIZE)).toBeLessThanOrEqual(256)
    expect(org.jobs['next-shard']?.if).toContain('needs.accounts.outputs.next-shard')
    const step = sweep?.steps?.find((s) => s.uses === PUBLISHED)
    expect(step?.with?.['role-to-assume']).toBe('arn:aws:iam::${{ matrix.account }}:role/${{ vars.PACKER_SWEEPER_ROLE_NAME }}')
  })
})

describe('the AWS Chatbot example (examples/chatbot/chatbot.yml)', () => {
  const template = parseTemplate(read(resolve(ROOT, 'examples/chatbot/chatbot.yml')))
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:packer-sweeper-NotificationTopic-EXAMPLE'
  const rendered = render(template, { TopicArn: topicArn, SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD' })
  const byType = (type: string) => Object.entries(rendered.resources).filter(([, resource]) => resource.Type === type)

  it('subscribes a Slack channel to a topic that the packer-sweeper topic feeds', () => {
    const [[, channel] = ['', undefined]] = byType('AWS::Chatbot::SlackChannelConfiguration')
    expect(channel?.Properties).toMatchObject({ SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD', SnsTopicArns: ['ref:ChatbotTopic'] })
    expect(rendered.resources.ChatbotTopic?.Type).toBe('AWS::SNS::Topic')
    const subscriptions = byType('AWS::SNS::Subscription').map(([, s]) => s.Properties)
    expect(subscriptions).toEqual([{ TopicArn: topicArn, Protocol: 'lambda', Endpoint: 'getatt:ForwarderFunction.Arn' }])
    const [[, permission] = ['', undefined]] = byType('AWS::Lambda::Permission')
    expect(permission?.Properties).toMatchObject({ Principal: 'sns.amazonaws.com', SourceArn: topicArn, FunctionName: 'ref:ForwarderFunction' })
    expect(rendered.resources.ForwarderFunction?.Properties.Environment).toEqual({ Variables: { CHATBOT_TOPIC_ARN: 'ref:ChatbotTopic' } })
  })

  it('accepts the TopicArn output of deploy/cloudformation.yml and nothing else', () => {
    expect(() => render(template, { TopicArn: 'packer-sweeper', SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD' })).toThrow(TemplateError)
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
      const [part] = buildNotifications(sample, topicArn)
      const lambda = (JSON.parse(part?.message ?? '{}') as { lambda: string }).lambda
      await module.exports.handler?.({ Records: [{ Sns: { Subject: 'packer-sweeper: 1 terminated', Message: lambda } }] })
    } finally {
      delete process.env.CHATBOT_TOPIC_ARN
    }
    expect(sent).toHaveLength(1)
    expect(sent[0]?.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:chatbot')
    const notification = JSON.parse(sent[0]?.Message ?? '{}')
    expect(notification).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown', title: 'packer-sweeper: 1 terminated' } })
    expect(notification.content.description).toContain('instance `i-0abc` (eu-west-1): terminated')
    expect(notification.content.description).toContain('key pair `key-1` (eu-west-1): deleted')
    // Every list of the message, whatever kinds it has: nothing is kept by a list in the forwarder.
    expect(notification.content.description).toContain('instance profile `packer-1` (global): deleted')
    expect(notification.content.description).toContain('<https://github.com/o/r/actions/runs/1|The workflow run>')
  })
})
