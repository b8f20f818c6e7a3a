/**
 * The shipped AWS set-up grants exactly what the code calls: for every mode, the CloudFormation
 * template's policy allows each action requiredPermissions() returns for a sweep the mode allows
 * (any choice among its `resources`) and nothing more; the plain JSON
 * policy is the terminate + all resources mode; the Terraform snippet names the same actions; the
 * trust policy pins one repository and the audience, and trusts GitHub's OIDC provider by its fixed ARN
 * whether the stack creates it or not (a provider it created is never deleted). OrphanSweep switches the EC2 leftovers
 * (key pairs, security groups, launch templates, images, volumes), IamSweep the instance profiles: both together are
 * `resources: all`. The README's Quick start deploy command is run as written against a stand-in
 * `aws`, and its workflow is checked to start as a dry run.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'

import { PERMISSION } from '../../src/model/permissions.js'
import { requiredPermissions } from '../../src/report/required-permissions.js'
import { SWEEP_ACTIONS, type ResourceKind, type SweepAction } from '../../src/model/types.js'
import { KIND_MODULES } from '../../src/kinds/registry.js'
import { KIND_NAMES } from '../../src/kinds/names.js'
import { readActionMetadata, ROOT } from '../../scripts/readme-tables.js'
import { getInputs } from '../../src/inputs.js'
import {
  allowedActions,
  asList,
  parseTemplate,
  render,
  statements,
  TemplateError,
  type Rendered
} from './cloudformation.js'

const read = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8')
const template = parseTemplate(read('deploy/cloudformation.yml'))
const REPO = 'octo-org/infrastructure'
const CODE_PERMISSIONS: string[] = Object.values(PERMISSION)
/** Every change any kind can make, from the registry: the keep-tag Deny must cover each one. */
const KIND_CHANGES = [
  ...new Set(KIND_MODULES.flatMap(({ permissions }) => [...permissions.stop, ...permissions.terminate]))
] as string[]
const EC2_MUTATING = KIND_CHANGES.filter((permission) => permission.startsWith('ec2:'))
const IAM_MUTATING = KIND_CHANGES.filter((permission) => permission.startsWith('iam:'))
const MUTATING = [...EC2_MUTATING, ...IAM_MUTATING]
const KEEP = { Null: { 'aws:ResourceTag/packer-sweeper:keep': 'false' } }
/** The IAM sweep's reads that every enabled region answers, whatever Regions says. */
const GLOBAL_EC2_READS = [PERMISSION.describeIamInstanceProfileAssociations, PERMISSION.describeRegions] as string[]

const ROLE = 'arn:aws:iam::123456789012:role/packer-????????-????-????-????-????????????'
const PROFILE = 'arn:aws:iam::123456789012:instance-profile/packer-????????-????-????-????-????????????'
/** The ARN of GitHub's OIDC provider in the checker's account: IAM names it after its URL, one per account. */
const GITHUB_PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'

/** IAM's own wildcard semantics for a Resource ARN pattern: `*` any run, `?` one character. */
function arnMatches(pattern: string, arn: string): boolean {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`
  ).test(arn)
}

describe('the IAM name pattern', () => {
  it("matches Packer's packer-<uuid> and not the sweeper's own packer-sweeper role", () => {
    expect(arnMatches(ROLE, 'arn:aws:iam::123456789012:role/packer-6745a1b2-0000-4000-8000-000000000000')).toBe(true)
    expect(
      arnMatches(PROFILE, 'arn:aws:iam::123456789012:instance-profile/packer-6745a1b2-0000-4000-8000-000000000000')
    ).toBe(true)
    expect(arnMatches(ROLE, 'arn:aws:iam::123456789012:role/packer-sweeper-SweeperRole-ABC123')).toBe(false)
    expect(arnMatches(ROLE, 'arn:aws:iam::123456789012:role/packer-sweeper')).toBe(false)
  })
})

interface Mode {
  action: SweepAction
  orphans: boolean
  iam: boolean
  allRegions: boolean
  notify: boolean
  estimateCost: boolean
}

const MODES: Mode[] = SWEEP_ACTIONS.flatMap((action) =>
  [true, false].flatMap((orphans) =>
    [true, false].flatMap((iam) =>
      [true, false].flatMap((allRegions) =>
        [true, false].flatMap((notify) =>
          [true, false].map((estimateCost) => ({ action, orphans, iam, allRegions, notify, estimateCost }))
        )
      )
    )
  )
)
const FULL: Mode = { action: 'terminate', orphans: true, iam: true, allRegions: true, notify: true, estimateCost: true }

/** The `resources` a mode is for: OrphanSweep the EC2 leftovers, IamSweep the instance profiles. */
const resourcesFor = (mode: Pick<Mode, 'orphans' | 'iam'>): ResourceKind[] =>
  KIND_NAMES.filter((kind) => kind === 'instances' || (kind === 'instance-profiles' ? mode.iam : mode.orphans))

function renderMode(mode: Mode, extra: Record<string, string> = {}): Rendered {
  return render(template, {
    GitHubRepository: REPO,
    SweepAction: mode.action,
    OrphanSweep: String(mode.orphans),
    IamSweep: String(mode.iam),
    Regions: mode.allRegions ? 'all' : 'eu-west-1,us-east-1',
    EnableNotifications: String(mode.notify),
    EstimateCost: String(mode.estimateCost),
    ...extra
  })
}

function resourceOfType(rendered: Rendered, type: string): Record<string, unknown> {
  const found = Object.values(rendered.resources).filter((resource) => resource.Type === type)
  expect(found).toHaveLength(1)
  return (found[0] as { Properties: Record<string, unknown> }).Properties
}

const policyOf = (rendered: Rendered): unknown => resourceOfType(rendered, 'AWS::IAM::ManagedPolicy').PolicyDocument
const trustOf = (rendered: Rendered): unknown => resourceOfType(rendered, 'AWS::IAM::Role').AssumeRolePolicyDocument

/** Every non-empty choice of `resources` among those a mode is for: the role runs any sweep its parameters allow. */
const selectionsOf = (kinds: readonly ResourceKind[]): ResourceKind[][] =>
  Array.from({ length: 2 ** kinds.length - 1 }, (_, bits) => kinds.filter((_kind, index) => ((bits + 1) >> index) & 1))

/** What a mode's role must allow: the permissions of every sweep the mode allows, together. */
const expectedFor = (mode: Mode): string[] =>
  [
    ...new Set(
      selectionsOf(resourcesFor(mode)).flatMap((resources) =>
        requiredPermissions(KIND_MODULES, {
          action: mode.action,
          resources,
          allRegions: mode.allRegions,
          notify: mode.notify,
          estimateCost: mode.estimateCost
        })
      )
    )
  ].sort()

describe('deploy/cloudformation.yml', () => {
  it('covers every resource kind: OrphanSweep and IamSweep together are resources: all', () => {
    expect(resourcesFor({ orphans: true, iam: true })).toEqual([...KIND_NAMES])
    expect(resourcesFor({ orphans: false, iam: false })).toEqual(['instances'])
    expect(resourcesFor({ orphans: true, iam: false })).not.toContain('instance-profiles')
    expect(resourcesFor({ orphans: false, iam: true })).toEqual(['instances', 'instance-profiles'])
  })

  it.each(
    MODES.map((mode): [string, Mode] => [
      `${mode.action}, orphans ${mode.orphans}, iam ${mode.iam}, all regions ${mode.allRegions}, sns ${mode.notify}, estimate cost ${mode.estimateCost}`,
      mode
    ])
  )('grants exactly what requiredPermissions() says the sweeps it allows need, for %s', (_name, mode) => {
    expect(allowedActions(policyOf(renderMode(mode)))).toEqual(expectedFor(mode))
  })

  it('never grants a wildcard action or an action the code does not call', () => {
    for (const mode of MODES) {
      for (const action of allowedActions(policyOf(renderMode(mode)))) {
        expect(action).not.toContain('*')
        expect(CODE_PERMISSIONS).toContain(action)
      }
    }
  })

  it('scopes every change to resource ARNs of the account, key pairs by name, images and snapshots (whose ARNs carry no account) by type', () => {
    const rendered = renderMode(FULL)
    const allow = statements(policyOf(rendered)).filter((s) => s.Effect === 'Allow')
    const resourcesOf = (action: string): string[] =>
      allow.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource))
    expect(resourcesOf(PERMISSION.terminateInstances)).toEqual(['arn:aws:ec2:*:123456789012:instance/*'])
    expect(resourcesOf(PERMISSION.deleteKeyPair)).toEqual(['arn:aws:ec2:*:123456789012:key-pair/packer_*'])
    expect(resourcesOf(PERMISSION.deleteSecurityGroup)).toContain('arn:aws:ec2:*:123456789012:security-group/*')
    expect(resourcesOf(PERMISSION.deleteLaunchTemplate)).toContain('arn:aws:ec2:*:123456789012:launch-template/*')
    // DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot under DeleteSnapshot, on the snapshot.
    const imagesAndSnapshots = ['arn:aws:ec2:*::image/*', 'arn:aws:ec2:*::snapshot/*']
    expect(resourcesOf(PERMISSION.deregisterImage).sort()).toEqual(imagesAndSnapshots)
    expect(resourcesOf(PERMISSION.deleteSnapshot).sort()).toEqual(imagesAndSnapshots)
    expect(resourcesOf(PERMISSION.deleteVolume)).toEqual(['arn:aws:ec2:*:123456789012:volume/*'])
    expect(resourcesOf(PERMISSION.publish)).toEqual(['ref:NotificationTopic'])
    for (const statement of allow) {
      if (asList(statement.Action).some((action) => MUTATING.includes(action))) {
        expect(asList(statement.Resource)).not.toContain('*')
      }
    }
  })

  it("scopes the IAM sweep to roles and instance profiles of the account named like Packer's packer-<uuid> (never packer-sweeper-…)", () => {
    const allow = statements(policyOf(renderMode(FULL))).filter((s) => s.Effect === 'Allow')
    const resourcesOf = (action: string): string[] =>
      allow
        .filter((s) => asList(s.Action).includes(action))
        .flatMap((s) => asList(s.Resource))
        .sort()
    for (const action of [
      PERMISSION.listRoleTags,
      PERMISSION.listRolePolicies,
      PERMISSION.listAttachedRolePolicies,
      PERMISSION.deleteRolePolicy,
      PERMISSION.deleteRole
    ]) {
      expect(resourcesOf(action)).toEqual([ROLE])
    }
    for (const action of [PERMISSION.listInstanceProfileTags, PERMISSION.deleteInstanceProfile]) {
      expect(resourcesOf(action)).toEqual([PROFILE])
    }
    // IAM authorizes it on both the instance profile and the role.
    expect(resourcesOf(PERMISSION.removeRoleFromInstanceProfile)).toEqual([PROFILE, ROLE].sort())
    // List calls are authorized on the path they list (PathPrefix / → arn:…:role/), not on the names
    // they return: role/packer-????????-????-????-????-???????????? would refuse them. They only read.
    expect(resourcesOf(PERMISSION.listRoles)).toEqual(['arn:aws:iam::123456789012:role/*'])
    expect(resourcesOf(PERMISSION.listInstanceProfiles)).toEqual(['arn:aws:iam::123456789012:instance-profile/*'])
    // EC2's describe calls take no resource-level permissions.
    expect(resourcesOf(PERMISSION.describeIamInstanceProfileAssociations)).toEqual(['*'])
    expect(resourcesOf(PERMISSION.describeRegions)).toEqual(['*'])
    for (const statement of allow.filter((s) => asList(s.Action).some((action) => action.startsWith('iam:')))) {
      expect(asList(statement.Action).every((action) => action.startsWith('iam:'))).toBe(true)
      expect(statement.Condition).toBeUndefined()
    }
  })

  it('grants no IAM action without IamSweep, and no IAM change unless the action is terminate', () => {
    for (const mode of MODES) {
      const iam = allowedActions(policyOf(renderMode(mode))).filter((action) => action.startsWith('iam:'))
      if (!mode.iam) expect(iam).toEqual([])
      else
        expect(iam.filter((action) => IAM_MUTATING.includes(action)).sort()).toEqual(
          mode.action === 'terminate' ? [...IAM_MUTATING].sort() : []
        )
    }
  })

  it('limits every EC2 statement to the listed regions when regions is not all', () => {
    const rendered = renderMode({
      action: 'stop',
      orphans: true,
      iam: false,
      allRegions: false,
      notify: false,
      estimateCost: true
    })
    const ec2 = statements(policyOf(rendered)).filter(
      (s) => s.Effect === 'Allow' && asList(s.Action).every((a) => a.startsWith('ec2:'))
    )
    expect(ec2.length).toBeGreaterThan(0)
    for (const statement of ec2) {
      expect(statement.Condition?.StringEquals?.['aws:RequestedRegion']).toEqual(['eu-west-1', 'us-east-1'])
    }
  })

  it('lets the IAM sweep read every region (it asks each which instances use a profile), and nothing else', () => {
    for (const action of ['notify', 'terminate'] as const) {
      const rendered = renderMode({
        action,
        orphans: true,
        iam: true,
        allRegions: false,
        notify: false,
        estimateCost: true
      })
      const ec2 = statements(policyOf(rendered)).filter(
        (s) => s.Effect === 'Allow' && asList(s.Action).every((a) => a.startsWith('ec2:'))
      )
      const unlimited = ec2.filter((s) => s.Condition?.StringEquals?.['aws:RequestedRegion'] === undefined)
      expect(unlimited.flatMap((s) => asList(s.Action)).sort()).toEqual([...GLOBAL_EC2_READS].sort())
      for (const statement of ec2.filter((s) => !unlimited.includes(s))) {
        expect(statement.Condition?.StringEquals?.['aws:RequestedRegion']).toEqual(['eu-west-1', 'us-east-1'])
      }
      for (const statement of unlimited) expect(statement.Condition).toBeUndefined()
    }
  })

  it('reads list prices in any region (the Price List API answers in us-east-1), spot prices only in the listed regions', () => {
    const rendered = renderMode({
      action: 'notify',
      orphans: false,
      iam: false,
      allRegions: false,
      notify: false,
      estimateCost: true
    })
    const allow = statements(policyOf(rendered)).filter((s) => s.Effect === 'Allow')
    const pricing = allow.filter((s) => asList(s.Action).includes(PERMISSION.getProducts))
    expect(pricing).toHaveLength(1)
    expect(asList(pricing[0]?.Action)).toEqual([PERMISSION.getProducts])
    expect(pricing[0]?.Condition).toBeUndefined()
    const spot = allow.find((s) => asList(s.Action).includes(PERMISSION.describeSpotPriceHistory))
    expect(spot?.Condition?.StringEquals?.['aws:RequestedRegion']).toEqual(['eu-west-1', 'us-east-1'])
  })

  it('requires the packer-sweeper:managed tag on instances only when asked to', () => {
    const instanceStatement = (require: string): { Condition?: Record<string, Record<string, unknown>> } | undefined =>
      statements(
        policyOf(
          renderMode(
            { action: 'terminate', orphans: false, iam: false, allRegions: true, notify: false, estimateCost: false },
            { RequireManagedTag: require }
          )
        )
      ).find((s) => asList(s.Action).includes(PERMISSION.terminateInstances))
    expect(instanceStatement('true')?.Condition).toEqual({
      Null: { 'aws:ResourceTag/packer-sweeper:managed': 'false' }
    })
    expect(instanceStatement('false')?.Condition).toBeUndefined()
  })

  it('denies every change to resources that carry the exclude tag, in every mode, IAM roles and profiles included', () => {
    for (const mode of MODES) {
      const deny = statements(policyOf(renderMode(mode))).filter((s) => s.Effect === 'Deny')
      expect(deny).toHaveLength(2)
      const [ec2, iam] = deny
      expect(asList(ec2?.Action).sort()).toEqual([...EC2_MUTATING].sort())
      // aws:ResourceTag: IAM evaluates it for roles and instance profiles alike (iam:ResourceTag knows no profiles).
      expect(asList(iam?.Action).sort()).toEqual([...IAM_MUTATING].sort())
      for (const statement of deny) {
        expect(statement.Resource).toBe('*')
        expect(statement.Condition).toEqual(KEEP)
      }
    }
  })

  it('stays well under the 6,144 characters IAM allows a managed policy, in the largest mode', () => {
    const largest = renderMode(
      { ...FULL, allRegions: false },
      { RequireManagedTag: 'true', Regions: 'eu-west-1,eu-central-1,us-east-1,us-west-2,ap-southeast-2' }
    )
    // The real topic ARN is longer than the checker's ref:NotificationTopic: leave it 500 characters.
    expect(JSON.stringify(policyOf(largest)).length + 500).toBeLessThan(6144)
  })

  it('trusts one repository and branch, with the audience pinned', () => {
    const rendered = renderMode(MODES[0] as Mode)
    const [trust, ...more] = statements(trustOf(rendered))
    expect(more).toHaveLength(0)
    expect(trust?.Effect).toBe('Allow')
    expect(trust?.Action).toBe('sts:AssumeRoleWithWebIdentity')
    expect(trust?.Principal).toEqual({ Federated: GITHUB_PROVIDER })
    expect(trust?.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': `repo:${REPO}:ref:refs/heads/main`
      }
    })
  })

  it('trusts a GitHub environment instead of a branch when one is given', () => {
    const rendered = renderMode(MODES[0] as Mode, { GitHubEnvironment: 'aws-sweeper', GitHubBranch: 'release' })
    const [trust] = statements(trustOf(rendered))
    expect(trust?.Condition?.StringEquals?.['token.actions.githubusercontent.com:sub']).toBe(
      `repo:${REPO}:environment:aws-sweeper`
    )
  })

  it('names the role only when RoleName is given (the same name in every account of a StackSet)', () => {
    const roleOf = (given: Record<string, string>) =>
      Object.values(renderMode(MODES[0] as Mode, given).resources).find((r) => r.Type === 'AWS::IAM::Role')
    expect(roleOf({ RoleName: 'packer-sweeper' })?.Properties?.RoleName).toBe('packer-sweeper')
    expect(roleOf({})?.Properties).not.toHaveProperty('RoleName')
    expect(() => render(template, { GitHubRepository: REPO, RoleName: 'no spaces allowed' })).toThrow(TemplateError)
  })

  it('creates the SNS topic only with notifications on', () => {
    const types = (notify: boolean): string[] =>
      Object.values(
        renderMode({ action: 'notify', orphans: false, iam: false, allRegions: true, notify, estimateCost: false })
          .resources
      ).map((r) => r.Type)
    expect(types(true)).toContain('AWS::SNS::Topic')
    expect(types(false)).not.toContain('AWS::SNS::Topic')
  })

  it('rejects a repository pattern with wildcards and an unknown action', () => {
    expect(() => render(template, { GitHubRepository: 'octo-org/*' })).toThrow(TemplateError)
    expect(() => render(template, { GitHubRepository: REPO, SweepAction: 'terminte' })).toThrow(TemplateError)
  })
})

describe("deploy/cloudformation.yml: GitHub's OIDC provider", () => {
  const providersOf = (rendered: Rendered) =>
    Object.entries(rendered.resources).filter(([, resource]) => resource.Type === 'AWS::IAM::OIDCProvider')
  const principalOf = (rendered: Rendered) => statements(trustOf(rendered))[0]?.Principal

  it.each([
    ['true', 1],
    ['false', 0]
  ])(
    'CreateOidcProvider=%s: creates %i provider, and the role trusts the provider by its fixed ARN',
    (create, count) => {
      const rendered = renderMode(FULL, { CreateOidcProvider: create })
      expect(providersOf(rendered)).toHaveLength(count)
      // The same principal either way: turning creation off or on leaves the role's trust as it is.
      expect(principalOf(rendered)).toEqual({ Federated: GITHUB_PROVIDER })
      expect(rendered.outputs.OidcProviderArn).toBe(GITHUB_PROVIDER)
    }
  )

  it('creates the provider for GitHub with the audience the role checks', () => {
    const [[, provider] = ['', undefined]] = providersOf(
      renderMode(FULL, { CreateOidcProvider: 'true', Audience: 'sigstore' })
    )
    expect(provider?.Properties.Url).toBe('https://token.actions.githubusercontent.com')
    expect(provider?.Properties.ClientIdList).toEqual(['sigstore'])
  })

  it('keeps a provider it created when the stack is deleted, when an update stops creating it, and on replacement (other roles may trust it)', () => {
    const declared = Object.entries(template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::IAM::OIDCProvider'
    )
    expect(declared).toHaveLength(1)
    for (const [, resource] of declared) {
      expect(resource.DeletionPolicy).toBe('Retain')
      expect(resource.UpdateReplacePolicy).toBe('Retain')
    }
    const [[, rendered] = ['', undefined]] = providersOf(renderMode(FULL, { CreateOidcProvider: 'true' }))
    expect(rendered).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' })
    // It outlives the stack: the tag says which stack made it (and makes upgrading a real change of it).
    expect(rendered?.Properties.Tags).toEqual([{ Key: 'packer-sweeper:stack', Value: 'packer-sweeper' }])
  })

  it('has the one DeletionPolicy line the upgrade check in docs/permissions.md counts', () => {
    const check = /grep -c '(DeletionPolicy: Retain)'` prints `1`/.exec(
      read('docs/permissions.md').replace(/\s*\n\s*/g, ' ')
    )
    expect(check).not.toBeNull()
    expect(
      read('deploy/cloudformation.yml')
        .split('\n')
        .filter((line) => line.includes(check?.[1] ?? '?'))
    ).toHaveLength(1)
  })

  it('still creates it, under the logical ID older stacks used, when an update does not mention CreateOidcProvider', () => {
    // Stacks deployed before CreateOidcProvider created GitHubOidcProvider without a DeletionPolicy:
    // an update that dropped or renamed it by default would delete the account's provider.
    expect(providersOf(renderMode(FULL)).map(([name]) => name)).toEqual(['GitHubOidcProvider'])
  })

  it('honours the deprecated ExistingOidcProviderArn: it wins over CreateOidcProvider and is trusted as given', () => {
    for (const [create, existing] of [
      [undefined, GITHUB_PROVIDER],
      ['true', GITHUB_PROVIDER],
      ['false', 'arn:aws-us-gov:iam::123456789012:oidc-provider/token.actions.githubusercontent.com']
    ] as const) {
      const rendered = renderMode(FULL, {
        ExistingOidcProviderArn: existing,
        ...(create === undefined ? {} : { CreateOidcProvider: create })
      })
      expect(providersOf(rendered)).toHaveLength(0)
      expect(principalOf(rendered)).toEqual({ Federated: existing })
      expect(rendered.outputs.OidcProviderArn).toBe(existing)
    }
  })

  it('refuses an ExistingOidcProviderArn that is not a GitHub provider, and a CreateOidcProvider that is not true or false', () => {
    for (const wrong of [
      'arn:aws:iam::123456789012:oidc-provider/accounts.google.com',
      'token.actions.githubusercontent.com',
      `${GITHUB_PROVIDER}/octo-enterprise`
    ]) {
      expect(() => renderMode(FULL, { ExistingOidcProviderArn: wrong })).toThrow(TemplateError)
    }
    expect(() => renderMode(FULL, { CreateOidcProvider: 'yes' })).toThrow(TemplateError)
  })
})

describe('deploy/iam-policy.json', () => {
  const policy: unknown = JSON.parse(read('deploy/iam-policy.json'))

  it('is the terminate + all resources + all regions + SNS + estimate-cost mode, exactly', () => {
    expect(resourcesFor(FULL)).toEqual([...KIND_NAMES])
    expect(allowedActions(policy)).toEqual(expectedFor(FULL))
  })

  it('scopes the changes like the template and denies the exclude tag', () => {
    const all = statements(policy)
    for (const statement of all.filter((s) => s.Effect === 'Allow')) {
      if (asList(statement.Action).some((action) => MUTATING.includes(action) || action === PERMISSION.publish)) {
        expect(asList(statement.Resource)).not.toContain('*')
      }
    }
    const key = all.find((s) => asList(s.Action).includes(PERMISSION.deleteKeyPair) && s.Effect === 'Allow')
    expect(asList(key?.Resource)).toEqual(['arn:aws:ec2:*:*:key-pair/packer_*'])
    const resourcesOf = (action: string): string[] =>
      all
        .filter((s) => s.Effect === 'Allow' && asList(s.Action).includes(action))
        .flatMap((s) => asList(s.Resource))
        .sort()
    for (const action of [PERMISSION.deregisterImage, PERMISSION.deleteSnapshot])
      expect(resourcesOf(action)).toEqual(['arn:aws:ec2:*::image/*', 'arn:aws:ec2:*::snapshot/*'])
    expect(resourcesOf(PERMISSION.deleteVolume)).toEqual(['arn:aws:ec2:*:*:volume/*'])
    const deny = all.filter((s) => s.Effect === 'Deny')
    expect(deny.flatMap((s) => asList(s.Action)).sort()).toEqual([...MUTATING].sort())
    for (const statement of deny) expect(statement.Condition).toEqual(KEEP)
  })

  it('scopes the IAM sweep like the template, with * for the account', () => {
    const allow = statements(policy).filter((s) => s.Effect === 'Allow')
    const resourcesOf = (action: string): string[] =>
      allow
        .filter((s) => asList(s.Action).includes(action))
        .flatMap((s) => asList(s.Resource))
        .sort()
    for (const action of [
      PERMISSION.listRoleTags,
      PERMISSION.listRolePolicies,
      PERMISSION.listAttachedRolePolicies,
      PERMISSION.deleteRolePolicy,
      PERMISSION.deleteRole
    ]) {
      expect(resourcesOf(action)).toEqual(['arn:aws:iam::*:role/packer-????????-????-????-????-????????????'])
    }
    for (const action of [PERMISSION.listInstanceProfileTags, PERMISSION.deleteInstanceProfile]) {
      expect(resourcesOf(action)).toEqual([
        'arn:aws:iam::*:instance-profile/packer-????????-????-????-????-????????????'
      ])
    }
    expect(resourcesOf(PERMISSION.removeRoleFromInstanceProfile)).toEqual([
      'arn:aws:iam::*:instance-profile/packer-????????-????-????-????-????????????',
      'arn:aws:iam::*:role/packer-????????-????-????-????-????????????'
    ])
    expect(resourcesOf(PERMISSION.listRoles)).toEqual(['arn:aws:iam::*:role/*'])
    expect(resourcesOf(PERMISSION.listInstanceProfiles)).toEqual(['arn:aws:iam::*:instance-profile/*'])
    expect(resourcesOf(PERMISSION.describeIamInstanceProfileAssociations)).toEqual(['*'])
  })

  it('is the file the error messages point to', async () => {
    const { POLICY_HINT } = await import('../../src/aws/errors.js')
    expect(POLICY_HINT).toContain('deploy/iam-policy.json')
  })
})

describe('deploy/terraform/main.tf', () => {
  const hcl = read('deploy/terraform/main.tf')
  /** The string literals of every `actions = [...]` list and of `for_each` lists that feed actions. */
  const grantedActions = (): string[] => {
    const sweeper = hcl.slice(
      hcl.indexOf('data "aws_iam_policy_document" "sweeper"'),
      hcl.indexOf('resource "aws_iam_role" "sweeper"')
    )
    const allow = sweeper
      .split(/\n\s*(?:dynamic "statement" \{|statement \{)/)
      .filter((block) => !/effect\s*=\s*"Deny"/.test(block))
    const names = allow.flatMap((block) =>
      [...block.matchAll(/"((?:ec2|sns|sts|iam|pricing):[A-Za-z*]+)"/g)].map((m) => m[1] as string)
    )
    return [...new Set(names)].sort()
  }

  it('names the same actions as the template, all modes together', () => {
    const union = [...new Set(MODES.flatMap(expectedFor))].sort()
    expect(grantedActions()).toEqual(union)
  })

  /** One top-level block, from its header to its closing brace. */
  const block = (header: string): string => {
    const from = hcl.indexOf(header)
    if (from < 0) throw new Error(`deploy/terraform/main.tf has no ${header}`)
    return hcl.slice(from, hcl.indexOf('\n}\n', from) + 2)
  }

  it("creates GitHub's OIDC provider only when asked and never destroys it; otherwise looks it up by its URL", () => {
    // true by default: a module that created the provider before create_oidc_provider existed keeps it.
    expect(block('variable "create_oidc_provider"')).toMatch(/type\s*=\s*bool[\s\S]*default\s*=\s*true/)
    expect(hcl).toMatch(/create_oidc_provider\s*=\s*var\.create_oidc_provider && var\.existing_oidc_provider_arn == ""/)
    expect(hcl).toMatch(
      /look_up_oidc_provider\s*=\s*!var\.create_oidc_provider && var\.existing_oidc_provider_arn == ""/
    )
    const created = block('resource "aws_iam_openid_connect_provider" "github"')
    expect(created).toMatch(/count\s*=\s*local\.create_oidc_provider \? 1 : 0/)
    // Terraform's Retain: a plan that would destroy it (count 1 → 0, or destroy) fails instead.
    expect(created).toMatch(/lifecycle\s*\{\s*prevent_destroy\s*=\s*true\s*\}/)
    const found = block('data "aws_iam_openid_connect_provider" "github"')
    expect(found).toMatch(/count\s*=\s*local\.look_up_oidc_provider \? 1 : 0/)
    expect(found).toMatch(/url\s*=\s*"https:\/\/token\.actions\.githubusercontent\.com"/)
    expect(block('data "aws_iam_policy_document" "trust"')).toContain('identifiers = [local.provider_arn]')
  })

  it('pins repository and audience in the trust policy', () => {
    expect(hcl).toMatch(/variable\s*=\s*"token\.actions\.githubusercontent\.com:aud"/)
    expect(hcl).toMatch(/variable\s*=\s*"token\.actions\.githubusercontent\.com:sub"/)
    expect(hcl).toContain('"repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"')
    expect(hcl).toContain('key-pair/${var.key_pair_name_pattern}')
  })

  /** The policy document's statement with this sid, from its `dynamic "statement"` to its closing brace. */
  const statementBlock = (sid: string): string => {
    const at = hcl.search(new RegExp(`\\n\\s*sid\\s*=\\s*"${sid}"`))
    if (at < 0) throw new Error(`deploy/terraform/main.tf has no statement ${sid}`)
    const from = hcl.lastIndexOf('\n  dynamic "statement" {', at)
    return hcl.slice(from, hcl.indexOf('\n  }\n', at) + 4)
  }

  it('deregisters images with their snapshots on image and snapshot ARNs (which carry no account), deletes volumes of the account, with orphan_sweep and terminate, in the listed regions', () => {
    const images = statementBlock('DeregisterInterruptedImages')
    expect(images).toContain('for_each = local.delete_orphans ? [1] : []')
    expect(images).toMatch(/actions\s*=\s*\["ec2:DeleteSnapshot", "ec2:DeregisterImage"\]/)
    expect(images).toContain('"arn:${local.partition}:ec2:*::image/*"')
    expect(images).toContain('"arn:${local.partition}:ec2:*::snapshot/*"')
    expect(images).toContain('for_each = local.region_condition')
    const volumes = statementBlock('DeleteInheritedVolumes')
    expect(volumes).toContain('for_each = local.delete_orphans ? [1] : []')
    expect(volumes).toMatch(/actions\s*=\s*\["ec2:DeleteVolume"\]/)
    expect(volumes).toContain('resources = ["arn:${local.partition}:ec2:*:${local.account}:volume/*"]')
    expect(volumes).toContain('for_each = local.region_condition')
  })
})

describe('README.md: Quick start', () => {
  const readme = read('README.md')
  const start = readme.indexOf('\n## Quick start\n')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1] as string,
    code: m[2] as string
  }))
  const deploy = blocks.find((b) => b.lang === 'sh' && b.code.includes('aws cloudformation deploy'))
  const workflowBlock = blocks.find((b) => b.lang === 'yaml' && b.code.includes('jobs:'))

  it('has the deploy command and the workflow', () => {
    expect(start).toBeGreaterThan(0)
    expect(deploy).toBeDefined()
    expect(workflowBlock).toBeDefined()
  })

  it('says first what the stack creates and whom the role trusts: one repository, on main unless told otherwise', () => {
    const intro = section.slice(0, section.indexOf('```'))
    for (const said of ['role', 'OIDC provider', '`main`', '`GitHubBranch', '`GitHubEnvironment', 'never deletes'])
      expect(intro).toContain(said)
  })

  /** The README's deploy command, run by bash against a stand-in `aws` that never reaches AWS. */
  function runQuickStart(account: { providers: string[]; stackMadeTheProvider: boolean }): string[][] {
    const dir = mkdtempSync(join(tmpdir(), 'quick-start-'))
    try {
      const log = join(dir, 'calls')
      writeFileSync(
        join(dir, 'providers.json'),
        JSON.stringify({ OpenIDConnectProviderList: account.providers.map((Arn) => ({ Arn })) }, null, 4)
      )
      writeFileSync(
        join(dir, 'aws'),
        [
          '#!/bin/bash',
          '{ printf "%s\\n" "$@"; echo "<end of call>"; } >> "$FAKE_AWS_CALLS"',
          'case "$1 $2" in',
          '  "iam list-open-id-connect-providers") cat "$FAKE_AWS_PROVIDERS" ;;',
          '  "cloudformation describe-stack-resource")',
          '    [ "$FAKE_AWS_STACK_MADE_PROVIDER" = true ] && { echo "{}"; exit 0; }',
          '    echo "An error occurred (ValidationError) when calling the DescribeStackResource operation" >&2; exit 254 ;;',
          '  "cloudformation deploy") ;;',
          '  *) echo "unexpected aws call: $*" >&2; exit 99 ;;',
          'esac',
          ''
        ].join('\n'),
        { mode: 0o755 }
      )
      const result = spawnSync('bash', ['-c', deploy?.code ?? 'exit 1'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          PATH: `${dir}:/usr/bin:/bin`,
          HOME: dir,
          FAKE_AWS_CALLS: log,
          FAKE_AWS_PROVIDERS: join(dir, 'providers.json'),
          FAKE_AWS_STACK_MADE_PROVIDER: String(account.stackMadeTheProvider)
        }
      })
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
      return readFileSync(log, 'utf8')
        .split('<end of call>\n')
        .filter(Boolean)
        .map((call) => call.split('\n').filter(Boolean))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  const optionOf = (call: string[], option: string): string | undefined =>
    call.includes(option) ? call[call.indexOf(option) + 1] : undefined
  const deployOf = (calls: string[][]): string[] => {
    const deploys = calls.filter((call) => call[0] === 'cloudformation' && call[1] === 'deploy')
    expect(deploys).toHaveLength(1)
    return deploys[0] as string[]
  }
  /** The stack's parameters as the deploy command passes them. */
  const parametersOf = (call: string[]): Record<string, string> => {
    const from = call.indexOf('--parameter-overrides') + 1
    const until = call.findIndex((arg, index) => index >= from && arg.startsWith('--'))
    return Object.fromEntries(
      call.slice(from, until < 0 ? undefined : until).map((pair) => pair.split(/=(.*)/s, 2) as [string, string])
    )
  }

  const OTHERS = [
    'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
    `${GITHUB_PROVIDER}/octo-enterprise`
  ]
  it.each([
    ["an account without GitHub's provider", 'true', { providers: [], stackMadeTheProvider: false }],
    [
      'an account with only other OIDC providers (EKS, a GitHub Enterprise issuer)',
      'true',
      { providers: OTHERS, stackMadeTheProvider: false }
    ],
    [
      'an account whose GitHub provider someone else created',
      'false',
      { providers: [...OTHERS, GITHUB_PROVIDER], stackMadeTheProvider: false }
    ],
    // Before CreateOidcProvider the stack created it with no DeletionPolicy: false would delete it.
    [
      'an account whose GitHub provider this stack created',
      'true',
      { providers: [GITHUB_PROVIDER], stackMadeTheProvider: true }
    ]
  ])(
    'in %s, deploys the template with CreateOidcProvider=%s and a role that trusts the provider',
    (_name, create, account) => {
      const call = deployOf(runQuickStart(account))
      expect(optionOf(call, '--template-file')).toBe('deploy/cloudformation.yml')
      expect(optionOf(call, '--capabilities')).toBe('CAPABILITY_IAM')
      const parameters = parametersOf(call)
      expect(parameters.CreateOidcProvider).toBe(create)
      // render() refuses a parameter the template does not have, or a value it does not allow.
      const rendered = render(template, parameters)
      expect(Object.values(rendered.resources).filter((r) => r.Type === 'AWS::IAM::OIDCProvider')).toHaveLength(
        create === 'true' ? 1 : 0
      )
      expect(statements(trustOf(rendered))[0]?.Principal).toEqual({ Federated: GITHUB_PROVIDER })
    }
  )

  it("asks CloudFormation about the stack it deploys and the template's provider", () => {
    const calls = runQuickStart({ providers: [GITHUB_PROVIDER], stackMadeTheProvider: false })
    const asked = calls.find((call) => call[1] === 'describe-stack-resource') ?? []
    expect(optionOf(asked, '--stack-name')).toBe(optionOf(deployOf(calls), '--stack-name'))
    expect(template.Resources[optionOf(asked, '--logical-resource-id') ?? '']?.Type).toBe('AWS::IAM::OIDCProvider')
    expect(calls.find((call) => call[1] === 'list-open-id-connect-providers')).toContain('json')
  })

  interface QuickStartWorkflow {
    permissions: Record<string, string>
    concurrency: { group: string; 'cancel-in-progress': boolean }
    jobs: Record<string, { 'timeout-minutes': number; steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>
  }

  it('starts with a dry run of the full terminate sweep, with a timeout, one sweep at a time, and says which line to change', () => {
    const workflow = parse(workflowBlock?.code ?? '') as QuickStartWorkflow
    expect(workflow.permissions['id-token']).toBe('write')
    expect(workflow.concurrency).toEqual({
      group: expect.stringMatching(/^packer-sweeper-/),
      'cancel-in-progress': false
    })
    const [job, ...more] = Object.values(workflow.jobs)
    expect(more).toHaveLength(0)
    expect(job?.['timeout-minutes']).toBeGreaterThan(0)
    const step = job?.steps.find((s) => s.uses === 'packer-sweeper/packer-sweeper@v1')
    const declared = readActionMetadata().inputs
    expect(Object.keys(step?.with ?? {}).filter((name) => !(name in declared))).toEqual([])
    // What the action reads: its literal inputs over action.yml's defaults, expressions left at their defaults.
    const literal = Object.entries(step?.with ?? {}).filter(([, value]) => !String(value).startsWith('${{'))
    const given: Record<string, string> = {
      ...Object.fromEntries(Object.entries(declared).map(([name, input]) => [name, String(input.default ?? '')])),
      ...Object.fromEntries(literal.map(([name, value]) => [name, String(value)]))
    }
    const inputs = getInputs((name) => (given[name] ?? '').trim(), { AWS_REGION: 'us-east-1' })
    expect(inputs).toMatchObject({ 'dry-run': true, action: 'terminate', regions: 'all', resources: [...KIND_NAMES] })
    expect(section.slice(section.indexOf(workflowBlock?.code ?? ''))).toContain('`dry-run: false`')
  })
})
