/**
 * The finding each kind reports, as a plain map: the report's lists (report/types.ts) are typed
 * from it. A kind whose findings carry more than a leftover's fields names its own type here.
 */
import type {
  Finding,
  IamFinding,
  ImageFinding,
  InstanceFinding,
  OrphanFinding,
  VolumeFinding
} from '../model/types.js'
import type { Kind, REPORT_LISTS } from './names.js'

export interface FindingOfKind {
  instances: InstanceFinding
  'key-pairs': OrphanFinding
  'security-groups': OrphanFinding
  'launch-templates': OrphanFinding
  'instance-profiles': IamFinding
  images: ImageFinding
  volumes: VolumeFinding
}

/** The report's resource lists, one per kind. */
export type ReportLists = { [K in Kind as (typeof REPORT_LISTS)[K]]: FindingOfKind[K][] }

/** Every list of the report empty, for a new report: a kind missing here is a compile error. */
export function emptyReportLists(): ReportLists {
  return {
    instances: [],
    keyPairs: [],
    securityGroups: [],
    launchTemplates: [],
    instanceProfiles: [],
    images: [],
    volumes: []
  }
}

/** Whether a finding is one of a leftover kind's: a leftover's finding names its kind (the builders' name none). */
export function isFindingOf<K extends Exclude<Kind, 'instances'>>(
  kind: K,
  finding: Finding
): finding is FindingOfKind[K] {
  return 'kind' in finding && finding.kind === kind
}
