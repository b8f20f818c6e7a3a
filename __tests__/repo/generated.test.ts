/**
 * The generators of action.yml's kind blocks and of deploy/'s IAM actions (scripts/generate/), and
 * the staleness check npm run docs -- --check and the readme test share: a new kind shows up in every
 * generated place, what the permission oracle cannot say (a change's resources, a Deny for a new
 * service, an output's text) is refused rather than guessed, and a stale file is named with its line,
 * where that line comes from and `npm run docs`.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse } from 'yaml'

import {
  isAccountLeftoverKind,
  isBuilderKind,
  isRegionalLeftoverKind,
  type KindModule,
  type LeftoverKindModule
} from '../../src/engine/kind.js'
import type { Kind } from '../../src/kinds/names.js'
import { KIND_MODULES } from '../../src/kinds/registry.js'
import { PERMISSION, type Permission } from '../../src/model/permissions.js'
import { kindOutputs, resourcesDescription, yamlDescription, YAML_WIDTH } from '../../scripts/generate/action.js'
import { iamPolicy, keptChanges, leftoverReads, permissionList } from '../../scripts/generate/deploy.js'
import { readActionMetadata, ROOT, staleness } from '../../scripts/readme-tables.js'

const read = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8')
const regional = ((): LeftoverKindModule => {
  const kind = KIND_MODULES.find(isRegionalLeftoverKind)
  if (!kind) throw new Error('the registry has no regional leftover kind')
  return kind
})()
const FLEETS_READ = 'ec2:DescribeFleets'
const FLEETS_DELETE = 'ec2:DeleteFleets'

/** Every permission a kind declares is EC2's. */
const allEc2 = ({ permissions }: KindModule): boolean =>
  [...permissions.read, ...permissions.stop, ...permissions.terminate].every((permission) =>
    permission.startsWith('ec2:')
  )
const accountWide = ((): LeftoverKindModule => {
  const kind = KIND_MODULES.find((candidate) => isAccountLeftoverKind(candidate) && allEc2(candidate))
  if (!kind || !isAccountLeftoverKind(kind)) throw new Error('the registry has no account-wide EC2 leftover kind')
  return kind
})()

/** A kind the registry does not have (EC2 Fleets, say), regional unless given another, with the permissions given. */
function fleets(permissions: { read: string[]; terminate: string[] }, like: LeftoverKindModule = regional): KindModule {
  return {
    ...like,
    name: 'fleets' as Kind,
    nouns: { singular: 'EC2 Fleet', plural: 'EC2 Fleets', title: 'EC2 Fleets' },
    outputs: [{ name: 'fleets', description: 'JSON array of the IDs of the orphaned fleets.', ids: () => [] }],
    permissions: { read: permissions.read as Permission[], stop: [], terminate: permissions.terminate as Permission[] }
  }
}

describe('the deploy generator', () => {
  it("gives a new kind's reads to the leftover sweep and the plain policy's read statement, and its change to the keep tag's Deny", () => {
    // DeleteSecurityGroup has a row already: only the read is new.
    const kinds = [
      ...KIND_MODULES,
      fleets({ read: [FLEETS_READ, PERMISSION.describeInstances], terminate: [PERMISSION.deleteSecurityGroup] })
    ]
    expect(leftoverReads(kinds)).toContain(FLEETS_READ)
    expect(leftoverReads(kinds)).not.toContain(PERMISSION.describeInstances)
    const [find] = iamPolicy(kinds).Statement
    expect(find).toMatchObject({ Sid: 'FindPackerBuildersAndLeftovers', Effect: 'Allow', Resource: '*' })
    expect(find?.Action).toContain(FLEETS_READ)
    const withDelete = [...KIND_MODULES, fleets({ read: [FLEETS_READ], terminate: [FLEETS_DELETE] })]
    expect(keptChanges(withDelete, 'ec2')).toContain(FLEETS_DELETE)
    expect(keptChanges(withDelete, 'iam')).not.toContain(FLEETS_DELETE)
  })

  it("gives the leftover sweep the reads of every EC2 leftover kind, account-wide ones included, and none of a kind with another service's", () => {
    const withAccountWide = [...KIND_MODULES, fleets({ read: [FLEETS_READ], terminate: [FLEETS_DELETE] }, accountWide)]
    expect(leftoverReads(withAccountWide)).toContain(FLEETS_READ)
    // An IAM read makes it IamSweep's, like the instance profiles: its EC2 read is not OrphanSweep's either.
    const withIam = [...KIND_MODULES, fleets({ read: [FLEETS_READ, 'iam:ListRoles'], terminate: [] }, accountWide)]
    expect(leftoverReads(withIam)).not.toContain(FLEETS_READ)
    const reads = leftoverReads(KIND_MODULES)
    const builderReads = new Set<string>(KIND_MODULES.filter(isBuilderKind).flatMap((kind) => kind.permissions.read))
    for (const kind of KIND_MODULES.filter((kind) => !isBuilderKind(kind) && allEc2(kind)))
      for (const read of kind.permissions.read) if (!builderReads.has(read)) expect(reads).toContain(read)
    expect(reads.filter((permission) => !permission.startsWith('ec2:'))).toEqual([])
    // The IAM sweep reads every enabled region: DescribeRegions is never limited to the swept ones.
    expect(reads).not.toContain(PERMISSION.describeRegions)
  })

  it('refuses to grant a change it has no resources for, and a change no keep-tag Deny covers', () => {
    const kinds = [...KIND_MODULES, fleets({ read: [FLEETS_READ], terminate: [FLEETS_DELETE] })]
    expect(() => iamPolicy(kinds)).toThrow(
      /^ec2:DeleteFleets: a change needs the resources it may act on; add a row to POLICY_STATEMENTS/
    )
    const s3 = [...KIND_MODULES, fleets({ read: ['s3:ListBucket'], terminate: ['s3:DeleteBucket'] })]
    expect(() => keptChanges(s3, 'ec2')).toThrow(
      /^s3:DeleteBucket: no keep-tag Deny for its service; add one to KEEP_DENIES/
    )
  })

  it("writes a list of actions in its file's syntax", () => {
    const actions = [PERMISSION.describeKeyPairs, PERMISSION.describeSecurityGroups]
    expect(permissionList('main.tf', actions)).toBe('actions = ["ec2:DescribeKeyPairs", "ec2:DescribeSecurityGroups"]')
    expect(parse(permissionList('template.yml', actions))).toEqual(actions)
    expect(() => permissionList('policy.json', actions)).toThrow(/no list syntax/)
  })
})

describe("the generator of action.yml's kind blocks", () => {
  it('names a new kind in resources and adds its outputs after the others, with their descriptions', () => {
    const kinds = [...KIND_MODULES, fleets({ read: [FLEETS_READ], terminate: [] })]
    const resources = parse(resourcesDescription(kinds, 4)) as { description: string }
    expect(resources.description).toContain('instance-profiles (Packer')
    expect(resources.description).toMatch(/, fleets, or all\./)
    const outputs = parse(kindOutputs(kinds, 2)) as Record<string, { description: string }>
    expect(Object.keys(outputs)).toEqual([
      ...KIND_MODULES.flatMap((kind) => kind.outputs.map((output) => output.name)),
      'fleets'
    ])
    expect(outputs.fleets).toEqual({ description: 'JSON array of the IDs of the orphaned fleets.' })
  })

  it('refuses an output without a description', () => {
    const undescribed: KindModule = {
      ...fleets({ read: [FLEETS_READ], terminate: [] }),
      outputs: [{ name: 'fleets', ids: () => [] }]
    }
    expect(() => kindOutputs([...KIND_MODULES, undescribed], 2)).toThrow(
      /the output fleets of fleets has no description/
    )
  })

  it('keeps a short description on one line and folds a long one, or one YAML would misread on one line, as YAML reads it back', () => {
    expect(yamlDescription('How many.', 4)).toEqual(['description: How many.'])
    const long = `${'word '.repeat(40)}end.`
    const folded = yamlDescription(long, 4)
    expect(folded[0]).toBe('description: >-')
    for (const line of folded) expect(4 + line.length).toBeLessThanOrEqual(YAML_WIDTH)
    expect(parse(folded.join('\n'))).toEqual({ description: long })
    for (const tricky of ["'true' when it was cut.", 'Key: value lines.', 'A # is no comment.']) {
      expect(parse(yamlDescription(tricky, 4).join('\n'))).toEqual({ description: tricky })
    }
    expect(() => yamlDescription('two\nlines', 4)).toThrow(/one line/)
  })
})

describe('a stale generated file', () => {
  const meta = readActionMetadata()

  it('is named with its first stale line, the block and its source, and npm run docs', () => {
    const template = read('deploy/cloudformation.yml')
    const edited = template.replace('              - ec2:StopInstances\n', '')
    expect(edited).not.toBe(template)
    expect(staleness('deploy/cloudformation.yml', edited, meta)).toMatch(
      /^deploy\/cloudformation\.yml is stale at line \d+ \(the block kept-ec2-changes, generated from src\/report\/required-permissions\.ts\): run npm run docs/
    )
    expect(staleness('deploy/cloudformation.yml', template, meta)).toBeUndefined()
  })

  it('generated whole is named as such', () => {
    const policy = read('deploy/iam-policy.json')
    expect(staleness('deploy/iam-policy.json', policy.replace('"ec2:DescribeRegions",\n', ''), meta)).toMatch(
      /^deploy\/iam-policy\.json is stale at line \d+ \(generated whole from src\/report\/required-permissions\.ts\): run npm run docs/
    )
  })

  it("in action.yml, when a kind's output text moved on", () => {
    const action = read('action.yml')
    const edited = action.replace('How many instances are in instance-ids.', 'How many instances.')
    expect(staleness('action.yml', edited, meta)).toMatch(
      /^action\.yml is stale at line \d+ \(the block kind-outputs, generated from src\/kinds\/registry\.ts\)/
    )
  })
})
