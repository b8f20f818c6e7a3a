import type { OrphanFinding } from '../model/types.js'

export type OrphanKind = OrphanFinding['kind']

/** A resource that matched a kind's name, description and tag filters: not yet judged. */
export interface Candidate {
  kind: OrphanKind
  /** As reported: the kind's ID (its name, where the kind has no other). */
  id: string
  name: string
  /** What the kind's delete call takes when it is not `id` (a key pair's key-… ID). */
  deleteId?: string
  tags: ReadonlyMap<string, string>
  /** EC2's CreateTime; security groups have none. */
  createTime?: Date
}

/** What still uses a candidate: instances (which this run may terminate) and anything else. */
export interface Usage {
  instanceIds: string[]
  /** Uses no instance termination frees, e.g. "group sg-… (its rules reference it)", "eni-… (not attached to an instance)". */
  others: string[]
}

export interface DerivedAge {
  createdAt?: Date
  ageSource: OrphanFinding['ageSource']
  /** Undefined when the age is unknown. */
  ageSeconds?: number
  /** Set when the name's timestamp and CreateTime disagree, to explain which one was used. */
  note?: string
}

/** An instance, and the region it runs in: what uses a leftover, or a builder it waits for. */
export interface InstanceRef {
  instanceId: string
  region: string
}

/** What still uses a resource: instances (which this run may terminate) and anything else, in words. */
export interface Users {
  instances: readonly InstanceRef[]
  /** Uses no termination frees, e.g. "group sg-… (its rules reference it)". */
  others: readonly string[]
}

/** The first verdict on one resource (any kind's rules), with the age it was judged by. */
export type Judgement = { age: DerivedAge } & (
  | {
      verdict: 'skip'
      reason: string
      /** The reason names what uses other resources (IAM: the profiles holding a role): worded once users are read. */
      namesUsers?: boolean
    }
  | { verdict: 'check-usage' }
  | { verdict: 'fresh' | 'ignore' }
)
