/**
 * The committed bundle against a sandbox fleet of 20,000 stale builders, all terminated: no ID is
 * lost in the SNS notification. A subscriber that reads only the text (email) and one that reads
 * only the JSON (SQS, Lambda, HTTPS) each rebuild every terminated ID from the parts published,
 * and there is exactly one Publish per part, in order.
 */
import { describe, expect, it } from '@jest/globals'
import type { NotificationJson as PartJson } from '../../src/report/notification.js'
import { generateFleet } from '../../sandbox/index.js'
import { changedIds, sandboxPerTest, sorted } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

const { start } = sandboxPerTest()
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:image-builds'
const BUILDERS = 20_000

describe('SNS at any size', () => {
  it(`${BUILDERS.toLocaleString('en')} terminated builders: every ID reaches text and JSON subscribers, one Publish per part`, async () => {
    const s = await start({
      fleet: generateFleet({ region: 'us-east-1', count: BUILDERS, staleFraction: 1, seed: 7 }),
      topics: [TOPIC]
    })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', 'max-instances': '0', 'max-resources': '0', 'sns-topic-arn': TOPIC }
    })
    expectExit(run, 0)
    const terminated = sorted(run.list('acted-ids'))
    expect(terminated).toHaveLength(BUILDERS)
    expect(changedIds(s)).toEqual(terminated)

    const parts = s.published.map((message) => {
      const envelope = JSON.parse(message.message) as Record<string, string>
      return {
        subject: message.subject ?? '',
        text: envelope.default ?? '',
        json: JSON.parse(envelope.sqs ?? 'null') as PartJson,
        envelope,
        bytes: Buffer.byteLength(message.message)
      }
    })
    expect(parts.length).toBeGreaterThan(1)
    expect(s.callsOf('Publish')).toHaveLength(parts.length)
    const [first] = parts
    parts.forEach((part, index) => {
      expect(part.bytes).toBeLessThanOrEqual(262_144)
      expect(part.json).toMatchObject({
        kind: 'packer-sweeper',
        version: 2,
        runId: first?.json.runId,
        part: index + 1,
        parts: parts.length
      })
      expect(part.envelope.lambda).toBe(part.envelope.sqs)
      expect(part.envelope.https).toBe(part.envelope.sqs)
      expect(part.subject).toMatch(new RegExp(`^packer-sweeper, part ${index + 1} of ${parts.length}: `))
      expect(part.subject.length).toBeLessThan(100)
      expect(part.text).toContain(`Part ${index + 1} of ${parts.length} of packer-sweeper run ${first?.json.runId}`)
    })

    // The JSON subscriber: the ID lists of all parts, each ID once.
    const fromJson = parts.flatMap((part) => part.json.ids.instances?.terminated ?? [])
    expect(sorted(fromJson)).toEqual(terminated)
    expect(parts.flatMap((part) => Object.keys(part.json.ids.instances ?? {}))).toEqual(parts.map(() => 'terminated'))
    // The e-mail subscriber: one line per instance, with its outcome.
    const fromText = parts.flatMap((part) =>
      [...part.text.matchAll(/^\* (i-[0-9a-f]+) \(us-east-1, [^,]+, terminated\)$/gm)].map(
        (match) => match[1] as string
      )
    )
    expect(sorted(fromText)).toEqual(terminated)
    expect(run.log).toContain(`Published the report to ${TOPIC} (${parts.length} of ${parts.length} parts published)`)
    expect(run.stdout).not.toMatch(/^::error/m)
  }, 120_000)
})
