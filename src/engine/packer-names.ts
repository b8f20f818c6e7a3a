/**
 * Packer's temporary key pair and security group are named `packer_<uuid>`, where the UUID is
 * `uuid.TimeOrderedUUID()` of hashicorp/packer-plugin-sdk: `%08x-%04x-%04x-%04x-%04x%08x`, and its
 * first 8 hex digits are the Unix seconds at which the build started. That is the only age a
 * security group has: the EC2 API keeps no creation time for groups.
 */

/** Packer 0.1 was released in mid-2013; a name claiming an earlier build start is not Packer's. */
export const EARLIEST_PLAUSIBLE_BUILD = new Date('2013-01-01T00:00:00Z')

/** How far a name may lie in the future (clock skew between the build host and this runner). */
export const FUTURE_SKEW_SECONDS = 5 * 60

/**
 * Go's `%x` writes lowercase hex, so an uppercase name was not written by Packer and its leading
 * digits are not trusted as a build start.
 */
const PACKER_UUID_NAME = /^packer_([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The same shape as an EC2 filter value (`?` is any one character), for the server to narrow by:
 * it also lets through uppercase or non-hex names, which `isPackerTemporaryName` then turns away.
 */
export const PACKER_TEMPORARY_NAME_PATTERN = 'packer_????????-????-????-????-????????????'

/**
 * Whether `name` is exactly what Packer writes for a temporary key pair or group, `packer_<uuid>`.
 * A template's `temporary_key_pair_name`, or anyone's own key, has another name.
 */
export function isPackerTemporaryName(name: string): boolean {
  return PACKER_UUID_NAME.test(name)
}

/**
 * The build start encoded in a `packer_<uuid>` name, or undefined when the name does not carry a
 * plausible one (another shape, or a time before Packer existed or after `now` plus skew).
 */
export function buildStartFromName(name: string, now: Date): Date | undefined {
  const match = PACKER_UUID_NAME.exec(name)
  if (!match) return undefined
  const seconds = Number.parseInt(match[1] as string, 16)
  const buildStart = new Date(seconds * 1000)
  if (buildStart < EARLIEST_PLAUSIBLE_BUILD) return undefined
  if (seconds > now.getTime() / 1000 + FUTURE_SKEW_SECONDS) return undefined
  return buildStart
}
