/**
 * The images kind's one change: DeregisterImage with DeleteAssociatedSnapshots, which deregisters
 * the image and deletes its snapshots in the same call, answering each snapshot's result.
 *
 * IAM: `ec2:DeregisterImage` on the image, and `ec2:DeleteSnapshot` on its snapshots: without it
 * the image is still deregistered and each snapshot answers `missing-permissions` (the SDK's
 * DeleteSnapshotReturnCode: "the role lacks DeleteSnapshot permissions"). A snapshot another image
 * uses answers `skipped` and is kept; a Recycle Bin retention rule keeps the image and the
 * snapshots, still billed, which the call does not tell.
 */
import { DeregisterImageCommand, type EC2Client } from '@aws-sdk/client-ec2'

/** DeregisterImage's answers that mean the image is already gone: nothing left to do. */
export const IMAGE_ALREADY_GONE_CODES = ['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable'] as const

/**
 * DeregisterImage's refusal of a protected image (deregistration protection, or its 24-hour
 * cooldown after it was disabled). The code is the one AWS's own tools report; the API reference
 * names none for it (see sandbox/README.md, "not verified").
 */
export const IMAGE_PROTECTED_CODES = ['OperationNotPermitted'] as const

/**
 * DeregisterImage does not refuse an image instances run (they keep running): its use is read
 * before the call, and nothing answers "in use".
 */
export const IMAGE_IN_USE_CODES: readonly string[] = []

/** One snapshot's fate, as DeregisterImage answered it: `success`, `skipped` (another image uses it), `missing-permissions`, `internal-error`, `client-error`. */
export interface SnapshotResult {
  snapshotId: string
  returnCode: string
}

/**
 * Deregisters the image with its snapshots (with `dryRun`, EC2 answers DryRunOperation, which the
 * caller reads as the permission proven). Errors are thrown as the SDK gives them; the codes above
 * say which mean already gone or protected.
 */
export async function deregisterImage(
  client: EC2Client,
  imageId: string,
  dryRun: boolean,
  abortSignal?: AbortSignal
): Promise<SnapshotResult[]> {
  const answer = await client.send(
    new DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true, DryRun: dryRun }),
    { abortSignal }
  )
  return (answer.DeleteSnapshotResults ?? []).map((result) => ({
    snapshotId: result.SnapshotId ?? '',
    returnCode: result.ReturnCode ?? 'unknown'
  }))
}

/** Each snapshot's fate as DeregisterImage answered it, in words for the report. */
export function snapshotWords(results: readonly SnapshotResult[]): string[] {
  return results.map((result) =>
    result.returnCode === 'success'
      ? `snapshot ${result.snapshotId} deleted`
      : result.returnCode === 'skipped'
        ? `snapshot ${result.snapshotId} kept: another image uses it`
        : `snapshot ${result.snapshotId} kept: ${result.returnCode}`
  )
}
