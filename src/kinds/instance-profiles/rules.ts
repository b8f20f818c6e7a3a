/**
 * What makes an IAM instance profile and role Packer's temporary ones, as pure functions over what
 * IAM lists (packer-plugin-amazon, builder/common/step_iam_instance_profile.go): profile, role and
 * inline role policy all named `packer-<TimeOrderedUUID>`, the role described `Temporary role for
 * Packer`, trusting only `ec2.amazonaws.com` to `sts:AssumeRole`, on path `/`. A role any other
 * instance profile holds (at any path, of any name) belongs to that profile too: the build is
 * left whole, before anything is written.
 */
import { deriveAge, excludedBy, matchesTags } from '../../engine/rules.js'
import type { InstanceLink } from '../../engine/instance-usage.js'
import type { DerivedAge } from '../../engine/leftover-model.js'
import { isStale } from '../../engine/plan.js'
import type { RemovalStep, TagFilter } from '../../model/types.js'

export type { IamFinding, RemovalStep, RemovalStepOutcome } from '../../model/types.js'

/** A hyphen where the key pair and group use an underscore; lowercase hex as Go's %x writes it. */
const PACKER_IAM_NAME = /^packer-([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const PACKER_ROLE_DESCRIPTION = 'Temporary role for Packer'
export const PACKER_PATH = '/'
/** Instances name the profile they run with by its ARN. */
export const BY_INSTANCE_PROFILE: InstanceLink = { usedValue: (instance) => instance.IamInstanceProfile?.Arn }

/** IAM refuses to delete what something still uses with DeleteConflict: reported `in-use`, never forced. */
export const IAM_IN_USE_CODES: readonly string[] = ['DeleteConflict']

export function isPackerIamName(name: string): boolean {
  return PACKER_IAM_NAME.test(name)
}

/** The same name with the key pair's underscore, so one parser reads the build start of both. */
export function asKeyPairName(name: string): string {
  return name.replace(/^packer-/, 'packer_')
}

/**
 * True when a trust policy (as IAM returns it: URL-encoded JSON) lets exactly `ec2.amazonaws.com`
 * `sts:AssumeRole` and nothing else: one Allow statement, no condition, no other principal.
 */
export function trustsOnlyEc2(encodedDocument: string | undefined): boolean {
  if (!encodedDocument) return false
  let document: unknown
  try {
    document = JSON.parse(decodeURIComponent(encodedDocument))
  } catch {
    return false
  }
  const raw = (document as { Statement?: unknown }).Statement
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]
  if (statements.length !== 1) return false
  const statement = statements[0] as Record<string, unknown>
  const only = (value: unknown, expected: string) =>
    value === expected || (Array.isArray(value) && value.length === 1 && value[0] === expected)
  const principal = statement.Principal as Record<string, unknown> | undefined
  return (
    statement.Effect === 'Allow' &&
    statement.Condition === undefined &&
    statement.NotPrincipal === undefined &&
    statement.NotAction === undefined &&
    principal !== undefined &&
    Object.keys(principal).length === 1 &&
    only(principal.Service, 'ec2.amazonaws.com') &&
    only(statement.Action, 'sts:AssumeRole')
  )
}

export interface ListedRole {
  name: string
  arn: string
  path: string
  description?: string
  trustPolicy?: string
  createDate?: Date
}

export interface ListedProfile {
  name: string
  arn: string
  path: string
  createDate?: Date
  /** Names of the roles the profile holds. */
  roles: string[]
}

/** IAM names are unique ignoring case, so they are compared that way. */
function sameIamName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

/** A profile as the report names it: its path before the name when that is not `/`, as in its ARN. */
export function profileLabel(profile: Pick<ListedProfile, 'name' | 'path'>): string {
  return profile.path === PACKER_PATH ? profile.name : `${profile.path}${profile.name}`
}

/** A role Packer created for a build: name, path, description and trust policy all as Packer writes them. */
export function isPackerRole(role: ListedRole): boolean {
  return (
    isPackerIamName(role.name) &&
    role.path === PACKER_PATH &&
    role.description === PACKER_ROLE_DESCRIPTION &&
    trustsOnlyEc2(role.trustPolicy)
  )
}

export function isPackerProfileName(profile: Pick<ListedProfile, 'name' | 'path'>): boolean {
  return isPackerIamName(profile.name) && profile.path === PACKER_PATH
}

/**
 * One build's leftovers, grouped by their shared name: any prefix of Packer's creation order (a
 * profile alone, a profile and a role, the role with its policy, the full set), or what a failed
 * clean-up left (a role alone).
 */
export interface IamLeftover {
  name: string
  profile?: ListedProfile & { tags: ReadonlyMap<string, string> }
  role?: ListedRole & { tags: ReadonlyMap<string, string>; inlinePolicies: string[]; managedPolicies: string[] }
  /** A role of the same name that is not Packer's (another description, trust policy or path): never touched. */
  foreignRole?: string
  /** A profile of the same name that is not Packer's (at another path than `/`): never touched, nor what shares its name. */
  foreignProfile?: ListedProfile
  /** Instance profiles other than the build's own, at any path, that hold the role of its name: the role is theirs too. */
  heldBy?: ListedProfile[]
}

/**
 * Every build's leftovers from the complete listings (every profile at every path, with the roles
 * it holds, and the roles named like Packer's): grouped by name, with every profile that holds
 * each role, so that nothing is written before every part's holders are known.
 */
export function groupLeftovers(profiles: readonly ListedProfile[], roles: readonly ListedRole[]): IamLeftover[] {
  const packerNamed = [...profiles.map((profile) => profile.name), ...roles.map((role) => role.name)].filter(
    isPackerIamName
  )
  return [...new Set(packerNamed)].sort().map((name) => {
    const leftover: IamLeftover = { name }
    const profile = profiles.find((candidate) => sameIamName(candidate.name, name))
    if (profile && isPackerProfileName(profile)) leftover.profile = { ...profile, tags: new Map() }
    const role = roles.find((candidate) => sameIamName(candidate.name, name))
    if (role && isPackerRole(role))
      leftover.role = { ...role, tags: new Map(), inlinePolicies: [], managedPolicies: [] }
    else if (role) leftover.foreignRole = role.name
    return placeInProfiles(leftover, profiles)
  })
}

/**
 * The build's leftovers as `profiles` (every profile, at every path) show them now: which roles
 * its own profile holds, a profile of its name that is not Packer's, and every other profile that
 * holds its role. Its own parts stay those it was planned with; a profile that appeared since is
 * never one of them.
 */
export function placeInProfiles(leftover: IamLeftover, profiles: readonly ListedProfile[]): IamLeftover {
  const { profile: own, foreignProfile: _foreign, heldBy: _heldBy, ...rest } = leftover
  const placed: IamLeftover = rest
  const isOwn = (profile: ListedProfile) => own !== undefined && profile.arn === own.arn
  if (own) {
    const listed = profiles.find(isOwn)
    placed.profile = listed ? { ...own, roles: listed.roles } : own
  }
  const foreign = profiles.find((profile) => !isOwn(profile) && sameIamName(profile.name, leftover.name))
  if (foreign) placed.foreignProfile = foreign
  const heldBy = profiles.filter(
    (profile) => !isOwn(profile) && profile.roles.some((role) => sameIamName(role, leftover.name))
  )
  if (heldBy.length > 0) placed.heldBy = heldBy
  return placed
}

/**
 * Why a role other profiles hold stays: each of them named, with the instances (`usedBy`) that
 * run with it, when any does.
 */
export function heldByReason(
  heldBy: readonly ListedProfile[],
  usedBy: (profile: ListedProfile) => readonly string[] = () => []
): string {
  const holders = heldBy.map((profile) => {
    const users = usedBy(profile)
    return `instance profile ${profileLabel(profile)}${users.length > 0 ? `, itself used by ${users.join(', ')}` : ''}`
  })
  return `in use by ${holders.join(' and by ')}`
}

/** The age of a build's leftovers: the name's build start against every CreateDate, the youngest counts. */
export function leftoverAge(leftover: IamLeftover, now: Date): DerivedAge {
  const dates = [leftover.profile?.createDate, leftover.role?.createDate].filter(
    (date): date is Date => date !== undefined
  )
  const youngest = dates.length > 0 ? new Date(Math.max(...dates.map((date) => date.getTime()))) : undefined
  return deriveAge({ name: asKeyPairName(leftover.name), ...(youngest ? { createTime: youngest } : {}) }, now)
}

export interface IamRules {
  maxAgeSeconds: number
  /** The exclude-tag keys: the role or the profile carrying any of them excludes the build. */
  excludeTag: readonly string[]
  tags: readonly TagFilter[]
}

/**
 * What a build's leftovers are before anyone asks whether an instance uses the profile: not
 * reported (fresh, or `tags` do not match), skipped with the reason (exclude-tag on the role or
 * the profile, age unknown, something Packer would not have made), or worth the usage check.
 */
export type IamVerdict =
  | { verdict: 'ignore' }
  /** `heldBy`: skipped because other profiles hold the role; the plan names the instances using them. */
  | { verdict: 'skip'; reason: string; heldBy?: readonly ListedProfile[] }
  | { verdict: 'check-usage' }

export function judgeLeftover(leftover: IamLeftover, age: DerivedAge, rules: IamRules): IamVerdict {
  if (age.ageSeconds !== undefined && !isStale(age.ageSeconds, rules.maxAgeSeconds)) return { verdict: 'ignore' }
  const tagged = [leftover.profile?.tags, leftover.role?.tags].filter(
    (tags): tags is ReadonlyMap<string, string> => tags !== undefined
  )
  // Packer tags both with run_tags: with `tags` set, each part the build left must carry them.
  // IAM tag keys are case-insensitive: `Packer-Sweeper:Keep` is the exclude-tag there.
  if (!tagged.every((tags) => matchesTags(tags, rules.tags, 'case-insensitive'))) return { verdict: 'ignore' }
  const excludingKey = tagged
    .map((tags) => excludedBy(tags, rules.excludeTag, 'case-insensitive'))
    .find((key) => key !== undefined)
  if (excludingKey !== undefined) return { verdict: 'skip', reason: `carries the ${excludingKey} tag` }
  // Another profile holding the role uses it, whatever runs with that profile: none of the build's parts is touched.
  if (leftover.heldBy && leftover.heldBy.length > 0)
    return { verdict: 'skip', reason: heldByReason(leftover.heldBy), heldBy: leftover.heldBy }
  if (age.ageSeconds === undefined) return { verdict: 'skip', reason: 'age unknown' }
  if (leftover.foreignRole)
    return {
      verdict: 'skip',
      reason: `the role ${leftover.foreignRole} is not Packer's (description, trust policy or path differ)`
    }
  if (leftover.foreignProfile)
    return {
      verdict: 'skip',
      reason: `the instance profile ${profileLabel(leftover.foreignProfile)} is not Packer's (Packer creates it at /)`
    }
  const foreignRoles = (leftover.profile?.roles ?? []).filter((role) => !sameIamName(role, leftover.name))
  if (foreignRoles.length > 0)
    return {
      verdict: 'skip',
      reason: `the profile holds ${foreignRoles.join(', ')}, a role Packer did not create for it`
    }
  const role = leftover.role
  if (role && role.managedPolicies.length > 0)
    return {
      verdict: 'skip',
      reason: `the role has managed policies attached (${role.managedPolicies.join(', ')}), which Packer never attaches`
    }
  const foreignPolicies = (role?.inlinePolicies ?? []).filter((policy) => policy !== leftover.name)
  if (foreignPolicies.length > 0)
    return {
      verdict: 'skip',
      reason: `the role has inline policies Packer would not have created (${foreignPolicies.join(', ')})`
    }
  return { verdict: 'check-usage' }
}

/** The steps that remove a build's leftovers, in Packer's own clean-up order, for what is there. */
export function removalSteps(leftover: IamLeftover): RemovalStep[] {
  const steps: RemovalStep[] = []
  const { profile, role } = leftover
  if (profile && role && profile.roles.some((held) => sameIamName(held, role.name)))
    steps.push('remove-role-from-profile')
  if (leftover.role && leftover.role.inlinePolicies.length > 0) steps.push('delete-role-policy')
  if (leftover.role) steps.push('delete-role')
  if (leftover.profile) steps.push('delete-instance-profile')
  return steps
}
