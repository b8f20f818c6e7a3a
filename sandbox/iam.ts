/**
 * IAM in the sandbox account: the instance profiles and roles Packer's
 * `temporary_iam_instance_profile_policy_document` leaves behind, and the IAM Query API operations
 * that find and remove them (awsQuery protocol: form POST, `Version=2010-05-08`,
 * `<XResponse><XResult>…` answers, `<member>` lists, `Marker`/`IsTruncated` pagination).
 * IAM is global: one state per account, whatever region the call was signed for.
 */
import { ACCOUNT_ID } from './ec2.js'
import { packerUuid, when } from './fleet.js'
import type {
  IamInstanceProfileRef,
  IamInstanceProfileSeed,
  IamRoleSeed,
  IamSeed,
  SandboxIamRole,
  SandboxInstanceProfile,
  Tags
} from './types.js'
import { AwsFault, el, esc, prng, type Params } from './wire.js'

/** The trust policy Packer gives its temporary role: only EC2 may assume it. */
export const EC2_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]
})

export const PACKER_ROLE_DESCRIPTION = 'Temporary role for Packer'

/** A policy document like the ones builds pass in `temporary_iam_instance_profile_policy_document`. */
export const PACKER_POLICY_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }]
})

/**
 * What a Packer build left in IAM, all named `packer-<uuid>`:
 * - `profile-only`: the instance profile (killed right after CreateInstanceProfile; or a cleanup killed after DeleteRole);
 * - `profile-and-role`: profile and role, no policy, role not in the profile (killed after CreateRole);
 * - `role-with-policy-unattached`: profile, role with its inline policy, role not in the profile
 *   (killed after PutRolePolicy; or a cleanup killed after RemoveRoleFromInstanceProfile);
 * - `full`: the profile holds the role, which has the policy (killed during the build);
 * - `role-only`: the role alone (a cleanup whose DeleteRole failed went on to DeleteInstanceProfile);
 * - `role-with-policy`: the role with its policy, no profile (a cleanup whose DeleteRolePolicy failed:
 *   DeleteRole then conflicts, and DeleteInstanceProfile still succeeds).
 */
export type PackerIamState =
  'profile-only' | 'profile-and-role' | 'role-with-policy-unattached' | 'full' | 'role-only' | 'role-with-policy'

export interface PackerIamOptions {
  /** How long ago the build started (the UUID's first 8 hex digits) and the resources were created. */
  ageSeconds: number
  state: PackerIamState
  /** The build's `run_tags` (on the profile and the role). */
  tags?: Tags
  /** The inline policy's document (default PACKER_POLICY_DOCUMENT). */
  policyDocument?: string
  /** Where the profile sits (default `/`, where Packer creates it): another path makes it a profile Packer did not create. */
  profilePath?: string
  now?: number
  random?: () => number
}

/** Packer's IAM leftovers in one of the states a killed build or a failed cleanup leaves; `name` is `packer-<uuid>`. */
export function packerIamLeftovers(options: PackerIamOptions): IamSeed & { name: string } {
  const now = options.now ?? Date.now()
  const name = `packer-${packerUuid(Math.floor(now / 1000) - options.ageSeconds, options.random)}`
  const { state, ageSeconds } = options
  const tags = { ...options.tags }
  const hasProfile =
    state === 'profile-only' ||
    state === 'profile-and-role' ||
    state === 'role-with-policy-unattached' ||
    state === 'full'
  const hasRole = state !== 'profile-only'
  const hasPolicy = state === 'role-with-policy-unattached' || state === 'full' || state === 'role-with-policy'
  const role: IamRoleSeed = {
    roleName: name,
    description: PACKER_ROLE_DESCRIPTION,
    assumeRolePolicyDocument: EC2_TRUST_POLICY,
    ageSeconds,
    tags,
    inlinePolicies: hasPolicy ? { [name]: options.policyDocument ?? PACKER_POLICY_DOCUMENT } : {}
  }
  const profile: IamInstanceProfileSeed = {
    instanceProfileName: name,
    ageSeconds,
    tags,
    roles: state === 'full' ? [name] : [],
    ...(options.profilePath ? { path: options.profilePath } : {})
  }
  return { name, roles: hasRole ? [role] : [], instanceProfiles: hasProfile ? [profile] : [] }
}

const MAX_ITEMS = { min: 1, max: 1000, default: 100 }

export class IamAccount {
  readonly roles: SandboxIamRole[] = []
  readonly instanceProfiles: SandboxInstanceProfile[] = []
  private readonly random: () => number

  constructor(seed = 1) {
    this.random = prng(seed ^ 0x1a4)
  }

  /**
   * Adds roles, then instance profiles (at any path, each holding at most one seeded role, which
   * other profiles may hold too); ages are measured back from `now`. Tag keys that differ only in
   * case, and a profile with two roles, refuse the whole seed before anything is added.
   */
  seed(seed: IamSeed, now = Date.now()): void {
    for (const s of seed.roles ?? []) uniqueTagKeys(`role ${s.roleName}`, s.tags)
    for (const s of seed.instanceProfiles ?? []) {
      uniqueTagKeys(`instance profile ${s.instanceProfileName}`, s.tags)
      const held = s.roles ?? []
      if (held.length > 1)
        throw new Error(`sandbox: instance profile ${s.instanceProfileName} holds ${held.length} roles; IAM allows one`)
    }
    for (const s of seed.roles ?? []) {
      if (this.role(s.roleName)) throw new Error(`sandbox: duplicate role ${s.roleName}`)
      const path = s.path ?? '/'
      this.roles.push({
        roleName: s.roleName,
        roleId: s.roleId ?? `AROA${this.id()}`,
        path,
        arn: `arn:aws:iam::${ACCOUNT_ID}:role${path}${s.roleName}`,
        description: s.description,
        assumeRolePolicyDocument: s.assumeRolePolicyDocument ?? EC2_TRUST_POLICY,
        createDate: when(s, s.createDate, now),
        tags: { ...s.tags },
        inlinePolicies: { ...s.inlinePolicies },
        attachedPolicyArns: [...(s.attachedPolicyArns ?? [])],
        maxSessionDuration: s.maxSessionDuration ?? 3600,
        lastUsed: s.lastUsed ? { date: when(s.lastUsed, undefined, now), region: s.lastUsed.region } : undefined
      })
    }
    for (const s of seed.instanceProfiles ?? []) {
      if (this.instanceProfile(s.instanceProfileName))
        throw new Error(`sandbox: duplicate instance profile ${s.instanceProfileName}`)
      const missing = (s.roles ?? []).find((r) => !this.role(r))
      if (missing) throw new Error(`sandbox: instance profile ${s.instanceProfileName} names unknown role ${missing}`)
      const path = s.path ?? '/'
      this.instanceProfiles.push({
        instanceProfileName: s.instanceProfileName,
        instanceProfileId: s.instanceProfileId ?? `AIPA${this.id()}`,
        path,
        arn: `arn:aws:iam::${ACCOUNT_ID}:instance-profile${path}${s.instanceProfileName}`,
        createDate: when(s, s.createDate, now),
        tags: { ...s.tags },
        roles: [...(s.roles ?? [])]
      })
    }
  }

  /** IAM names are unique case-insensitively. */
  role(name: string): SandboxIamRole | undefined {
    const lower = name.toLowerCase()
    return this.roles.find((r) => r.roleName.toLowerCase() === lower)
  }

  instanceProfile(name: string): SandboxInstanceProfile | undefined {
    const lower = name.toLowerCase()
    return this.instanceProfiles.find((p) => p.instanceProfileName.toLowerCase() === lower)
  }

  /** `{ arn, id }` of a seeded instance profile, for an instance's `iamInstanceProfile`. */
  profileRef(name: string): IamInstanceProfileRef {
    const p = this.instanceProfile(name)
    if (!p) throw new Error(`sandbox: no instance profile ${name}`)
    return { arn: p.arn, id: p.instanceProfileId }
  }

  /** A deep copy, for before/after comparisons. */
  snapshot(): { roles: SandboxIamRole[]; instanceProfiles: SandboxInstanceProfile[] } {
    return structuredClone({ roles: this.roles, instanceProfiles: this.instanceProfiles })
  }

  /** The resource an IAM call acts on, as IAM names it in AccessDenied messages. */
  resourceOf(action: string, params: Params): string {
    const arn = (kind: 'role' | 'instance-profile', name: string | undefined, found?: { arn: string }) =>
      found?.arn ?? `arn:aws:iam::${ACCOUNT_ID}:${kind}/${name ?? ''}`
    if (action === 'ListRoles') return `arn:aws:iam::${ACCOUNT_ID}:role${params.PathPrefix ?? '/'}`
    if (action === 'ListInstanceProfiles')
      return `arn:aws:iam::${ACCOUNT_ID}:instance-profile${params.PathPrefix ?? '/'}`
    if (params.InstanceProfileName !== undefined)
      return arn('instance-profile', params.InstanceProfileName, this.instanceProfile(params.InstanceProfileName))
    if (params.RoleName !== undefined) return arn('role', params.RoleName, this.role(params.RoleName))
    return '*'
  }

  /** Answers one IAM action: the XML inside `<XResult>` ('' for actions without a result). */
  handle(action: string, params: Params): string | undefined {
    return IAM_HANDLERS[action]?.(this, params)
  }

  /** Looks a role up for an operation; NoSuchEntity as IAM words it. */
  need(kind: 'role', name: string | undefined): SandboxIamRole
  need(kind: 'profile', name: string | undefined): SandboxInstanceProfile
  need(kind: 'role' | 'profile', name: string | undefined): SandboxIamRole | SandboxInstanceProfile {
    const param = kind === 'role' ? 'roleName' : 'instanceProfileName'
    if (!name)
      throw new AwsFault(
        'ValidationError',
        `1 validation error detected: Value null at '${param}' failed to satisfy constraint: Member must not be null`
      )
    const found = kind === 'role' ? this.role(name) : this.instanceProfile(name)
    if (found) return found
    throw kind === 'role'
      ? noSuchEntity(`The role with name ${name} cannot be found.`)
      : noSuchEntity(`Instance Profile ${name} cannot be found.`)
  }

  private id(): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
    let s = ''
    for (let i = 0; i < 17; i++) s += alphabet[Math.floor(this.random() * alphabet.length)]
    return s
  }
}

/** IAM tag keys are case-insensitive: a role or profile cannot carry two keys that differ only in case. */
function uniqueTagKeys(owner: string, tags: Tags | undefined): void {
  const keys = Object.keys(tags ?? {})
  const clashing = keys.filter((key) =>
    keys.some((other) => other !== key && other.toLowerCase() === key.toLowerCase())
  )
  if (clashing.length > 0)
    throw new Error(
      `sandbox: ${owner} has tag keys that differ only in case (${clashing.join(', ')}); IAM tag keys are case-insensitive`
    )
}

function noSuchEntity(message: string): AwsFault {
  return new AwsFault('NoSuchEntity', message, 404)
}

function deleteConflict(message: string): AwsFault {
  return new AwsFault('DeleteConflict', message, 409)
}

// ---- rendering ----

/** IAM's timestamps: ISO 8601 in whole seconds. */
function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** An awsQuery list: `<Name><member>…</member>…</Name>`. */
function members<T>(name: string, list: readonly T[], render: (item: T) => string): string {
  return `<${name}>${list.map((x) => `<member>${render(x)}</member>`).join('')}</${name}>`
}

function tagList(tags: Tags | Array<[string, string]>): string {
  return members('Tags', Array.isArray(tags) ? tags : Object.entries(tags), ([k, v]) => el('Key', k) + el('Value', v))
}

/** The role as lists show it: no tags, no RoleLastUsed, no permissions boundary (IAM's listing subset). */
function roleSummary(r: SandboxIamRole): string {
  return (
    el('Path', r.path) +
    el('RoleName', r.roleName) +
    el('RoleId', r.roleId) +
    el('Arn', r.arn) +
    el('CreateDate', isoSeconds(r.createDate)) +
    // IAM answers policy documents URL-encoded (RFC 3986).
    el('AssumeRolePolicyDocument', encodeURIComponent(r.assumeRolePolicyDocument))
  )
}

function roleListed(r: SandboxIamRole): string {
  return roleSummary(r) + el('Description', r.description) + el('MaxSessionDuration', r.maxSessionDuration)
}

function roleFull(r: SandboxIamRole): string {
  const lastUsed = r.lastUsed ? el('LastUsedDate', isoSeconds(r.lastUsed.date)) + el('Region', r.lastUsed.region) : ''
  return roleListed(r) + tagList(r.tags) + `<RoleLastUsed>${lastUsed}</RoleLastUsed>`
}

function profileXml(p: SandboxInstanceProfile, iam: IamAccount, withTags: boolean): string {
  const roles = p.roles.map((name) => iam.role(name)).filter((r): r is SandboxIamRole => r !== undefined)
  return (
    el('Path', p.path) +
    el('InstanceProfileName', p.instanceProfileName) +
    el('InstanceProfileId', p.instanceProfileId) +
    el('Arn', p.arn) +
    el('CreateDate', isoSeconds(p.createDate)) +
    members('Roles', roles, roleSummary) +
    (withTags ? tagList(p.tags) : '')
  )
}

// ---- pagination ----

/**
 * `MaxItems` (1–1000, default 100) and `Marker`: the marker names the last item answered. Roles,
 * profiles and inline policy names come sorted by name (`sorted`), so deleting what was already
 * listed does not shift the next page; tags and attached policies keep their order.
 * `IsTruncated` is always answered, `Marker` only when there is more.
 */
function pageOf<T>(
  all: readonly T[],
  name: (item: T) => string,
  params: Params,
  sorted: boolean
): { items: T[]; tail: string } {
  const max = params.MaxItems === undefined ? MAX_ITEMS.default : Number(params.MaxItems)
  if (!Number.isInteger(max) || max < MAX_ITEMS.min || max > MAX_ITEMS.max) {
    const bound =
      max < MAX_ITEMS.min ? `greater than or equal to ${MAX_ITEMS.min}` : `less than or equal to ${MAX_ITEMS.max}`
    throw new AwsFault(
      'ValidationError',
      `1 validation error detected: Value '${params.MaxItems}' at 'maxItems' failed to satisfy constraint: Member must have value ${bound}`
    )
  }
  const fingerprint = Object.keys(params)
    .filter((k) => k !== 'Marker' && k !== 'MaxItems')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&')
  const list = sorted ? [...all].sort((a, b) => compare(name(a), name(b))) : all
  let start = 0
  if (params.Marker !== undefined) {
    const decoded = decodeMarker(params.Marker)
    const after = decoded?.after
    if (after === undefined || decoded?.f !== fingerprint) throw new AwsFault('ValidationError', 'Invalid Marker.')
    const at = list.findIndex((item) => name(item) === after)
    start = at >= 0 ? at + 1 : sorted ? list.findIndex((item) => compare(name(item), after) > 0) : -1
    if (at < 0 && !sorted) throw new AwsFault('ValidationError', 'Invalid Marker.')
    if (start < 0) start = list.length
  }
  const rest = list.slice(start)
  const items = rest.slice(0, max)
  const last = items[items.length - 1]
  if (rest.length <= max || last === undefined) return { items, tail: el('IsTruncated', false) }
  const marker = Buffer.from(JSON.stringify({ after: name(last), f: fingerprint })).toString('base64')
  return { items, tail: el('IsTruncated', true) + el('Marker', marker) }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function decodeMarker(marker: string): { after: string; f: string } | undefined {
  try {
    const m = JSON.parse(Buffer.from(marker, 'base64').toString('utf8')) as { after?: unknown; f?: unknown }
    return typeof m.after === 'string' && typeof m.f === 'string' ? { after: m.after, f: m.f } : undefined
  } catch {
    return undefined
  }
}

// ---- operations ----

type IamHandler = (iam: IamAccount, params: Params) => string

const pathPrefix = (params: Params) => params.PathPrefix ?? '/'

export const IAM_HANDLERS: Record<string, IamHandler> = {
  ListInstanceProfiles: (iam, params) => {
    const page = pageOf(
      iam.instanceProfiles.filter((p) => p.path.startsWith(pathPrefix(params))),
      (p) => p.instanceProfileName,
      params,
      true
    )
    return members('InstanceProfiles', page.items, (p) => profileXml(p, iam, false)) + page.tail
  },
  GetInstanceProfile: (iam, params) =>
    `<InstanceProfile>${profileXml(iam.need('profile', params.InstanceProfileName), iam, true)}</InstanceProfile>`,
  ListInstanceProfileTags: (iam, params) => tagPage(iam.need('profile', params.InstanceProfileName).tags, params),
  ListRoles: (iam, params) => {
    const page = pageOf(
      iam.roles.filter((r) => r.path.startsWith(pathPrefix(params))),
      (r) => r.roleName,
      params,
      true
    )
    return members('Roles', page.items, roleListed) + page.tail
  },
  GetRole: (iam, params) => `<Role>${roleFull(iam.need('role', params.RoleName))}</Role>`,
  ListRoleTags: (iam, params) => tagPage(iam.need('role', params.RoleName).tags, params),
  ListRolePolicies: (iam, params) => {
    const page = pageOf(Object.keys(iam.need('role', params.RoleName).inlinePolicies), (n) => n, params, true)
    return members('PolicyNames', page.items, esc) + page.tail
  },
  ListAttachedRolePolicies: (iam, params) => {
    const page = pageOf(
      iam
        .need('role', params.RoleName)
        .attachedPolicyArns.filter((arn) => policyPath(arn).startsWith(pathPrefix(params))),
      (arn) => arn,
      params,
      false
    )
    return (
      members('AttachedPolicies', page.items, (arn) => el('PolicyName', arn.split('/').pop()) + el('PolicyArn', arn)) +
      page.tail
    )
  },
  GetRolePolicy: (iam, params) => {
    const role = iam.need('role', params.RoleName)
    const name = inlinePolicyName(role, params.PolicyName)
    return (
      el('RoleName', role.roleName) +
      el('PolicyName', name) +
      el('PolicyDocument', encodeURIComponent(role.inlinePolicies[name] as string))
    )
  },
  RemoveRoleFromInstanceProfile: (iam, params) => {
    const profile = iam.need('profile', params.InstanceProfileName)
    const role = iam.need('role', params.RoleName)
    const index = profile.roles.findIndex((r) => r.toLowerCase() === role.roleName.toLowerCase())
    if (index < 0) throw noSuchEntity(`The role with name ${params.RoleName} cannot be found.`)
    profile.roles.splice(index, 1)
    return ''
  },
  DeleteRolePolicy: (iam, params) => {
    const role = iam.need('role', params.RoleName)
    delete role.inlinePolicies[inlinePolicyName(role, params.PolicyName)]
    return ''
  },
  DeleteRole: (iam, params) => {
    const role = iam.need('role', params.RoleName)
    if (iam.instanceProfiles.some((p) => p.roles.some((r) => r.toLowerCase() === role.roleName.toLowerCase()))) {
      throw deleteConflict('Cannot delete entity, must remove roles from instance profile first.')
    }
    if (Object.keys(role.inlinePolicies).length > 0)
      throw deleteConflict('Cannot delete entity, must delete policies first.')
    if (role.attachedPolicyArns.length > 0)
      throw deleteConflict('Cannot delete entity, must detach all policies first.')
    iam.roles.splice(iam.roles.indexOf(role), 1)
    return ''
  },
  DeleteInstanceProfile: (iam, params) => {
    const profile = iam.need('profile', params.InstanceProfileName)
    if (profile.roles.length > 0)
      throw deleteConflict('Cannot delete entity, must remove roles from instance profile first.')
    iam.instanceProfiles.splice(iam.instanceProfiles.indexOf(profile), 1)
    return ''
  }
}

/** ListRoleTags / ListInstanceProfileTags: the tags in their order, paged. */
function tagPage(tags: Tags, params: Params): string {
  const page = pageOf(Object.entries(tags), ([k]) => k, params, false)
  return tagList(page.items) + page.tail
}

/** The path of a managed policy ARN (`arn:aws:iam::aws:policy/service-role/X` → `/service-role/`). */
function policyPath(arn: string): string {
  const resource = arn.split(':').slice(5).join(':')
  return resource.slice('policy'.length, resource.lastIndexOf('/') + 1)
}

function inlinePolicyName(role: SandboxIamRole, name: string | undefined): string {
  if (!name)
    throw new AwsFault(
      'ValidationError',
      "1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null"
    )
  const found = Object.keys(role.inlinePolicies).find((n) => n.toLowerCase() === name.toLowerCase())
  if (found === undefined) throw noSuchEntity(`The role policy with name ${name} cannot be found.`)
  return found
}
