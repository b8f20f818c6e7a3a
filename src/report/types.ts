/**
 * The report: the `report` output, the report file, and the source of the summary and the SNS
 * message. Its resource lists are one per kind (kinds/findings.ts).
 */
import type { ReportLists } from '../kinds/findings.js'
import type { CostReport } from '../model/cost.js'
import type { Inputs, RegionResult } from '../model/types.js'

/** Context of the workflow run, for links in the summary and the notification. */
export interface RunContext {
  repository?: string
  runUrl?: string
  actor?: string
  sha?: string
  workflow?: string
}

/** The whole result of a run. */
export type Report = ReportBase & ReportLists

interface ReportBase {
  version: 1
  startedAt: string
  finishedAt: string
  settings: ReportSettings
  run: RunContext
  regions: RegionResult[]
  /** Run-level problems that fail the step: the cap, a failed publish, stale with fail-on-stale. */
  errors: string[]
  /** True when the job was cancelled (SIGINT/SIGTERM) before the sweep finished. */
  cancelled: boolean
  /** Where the whole report was written (the `report-file` output); absent when it could not be. */
  reportFile?: string
  /** The SNS notification, when one was due. */
  notification?: NotificationRecord
  /** What the stale builders cost: only with estimate-cost. */
  cost?: CostReport
}

export interface NotificationRecord {
  topicArn: string
  /** Messages the notification was split into (one per 256 KiB). */
  parts: number
  /** How many of them SNS accepted, in order. */
  published: number
  /** Why the rest were not published. */
  error?: string
}

/** The inputs as reported: everything but nothing secret (there is nothing secret in the inputs). */
export type ReportSettings = Omit<Inputs, 'regions'> & { regions: string[] }
