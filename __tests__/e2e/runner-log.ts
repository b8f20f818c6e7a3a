/**
 * Reads an action's stdout the way the GitHub runner does (actions/runner: `ProcessInvoker` reads
 * lines with .NET's `StreamReader.ReadLine`; `ActionCommandManager.TryProcessCommand` and
 * `ActionCommand.TryParseV2`/`TryParse` decide what is a command), so a test can ask which
 * workflow commands a run's output would have executed — e.g. none that came from an instance name.
 *
 * - A line ends at LF, at CR, and at CRLF (one ending).
 * - `::name props::data`: after leading whitespace (.NET `TrimStart`), a line starting with `::`
 *   whose next `::` closes a registered command name (case-insensitive; properties after a space).
 * - `##[name props]data`: the legacy syntax, tried when the first fails, found *anywhere* in the line.
 * - `::stop-commands::<token>` stops all of that until a command whose name is the token (compared
 *   case-insensitively, so `::<token>::` with anything after it, or `##[<token>]`, resumes). An empty
 *   token never resumes. The resume line is listed with `resumes: true`.
 * - `notice` counts (GitHub.com enables enhanced annotations); `internal-set-repo-path` is not
 *   registered for actions and never counts.
 */

/** The commands the runner registers (ActionCommandManager and its extensions). */
export const RUNNER_COMMANDS = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo'
] as const

export interface WorkflowCommand {
  /** The command name, lower-cased as the runner matches it (`error`, `add-mask`, or a stop token). */
  command: string
  /** The whole line as the runner read it, leading whitespace included. */
  raw: string
  /** The data after the command, unescaped as the runner does (`%0D`, `%0A`; legacy also `%3B`, `%5D`, `%25`). */
  data: string
  /** Properties (`title=x,file=y`), unescaped. */
  properties: Record<string, string>
  /** 0-based index of the line in the output. */
  line: number
  syntax: '::' | '##['
  /** This line ended a `stop-commands` pause. */
  resumes?: true
}

/** .NET `char.IsWhiteSpace`, which `TrimStart` uses (JS `\s` differs: it has U+FEFF, lacks U+0085). */
const LEADING_WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/

const DATA_ESCAPES: Array<[string, string]> = [
  ['%0D', '\r'],
  ['%0A', '\n']
]
const PROPERTY_ESCAPES: Array<[string, string]> = [...DATA_ESCAPES, ['%3A', ':'], ['%2C', ','], ['%25', '%']]
const LEGACY_ESCAPES: Array<[string, string]> = [['%3B', ';'], ...DATA_ESCAPES, ['%5D', ']'], ['%25', '%']]

/** Lines as .NET's `ReadLine` returns them: split at CRLF, CR or LF; no empty line after a final break. */
export function runnerLines(stdout: string): string[] {
  const lines = stdout.split(/\r\n|\r|\n/)
  if (lines.at(-1) === '') lines.pop()
  return lines
}

/** Every workflow command the runner would execute for this stdout, in order. */
export function workflowCommands(stdout: string): WorkflowCommand[] {
  const registered = new Set<string>(RUNNER_COMMANDS)
  const found: WorkflowCommand[] = []
  let stopToken: string | undefined
  runnerLines(stdout).forEach((raw, line) => {
    const parsed = parse(raw, registered)
    if (!parsed) return
    const command = { ...parsed, raw, line }
    if (stopToken !== undefined) {
      if (stopToken === '' || command.command !== stopToken) return
      registered.delete(stopToken)
      stopToken = undefined
      found.push({ ...command, resumes: true })
      return
    }
    if (command.command === 'stop-commands') {
      stopToken = command.data.toLowerCase()
      registered.add(stopToken)
    }
    found.push(command)
  })
  return found
}

type Parsed = Pick<WorkflowCommand, 'command' | 'data' | 'properties' | 'syntax'>

function parse(raw: string, registered: Set<string>): Parsed | undefined {
  const message = raw.replace(LEADING_WHITESPACE, '')
  if (message.startsWith('::')) {
    const end = message.indexOf('::', 2)
    if (end >= 0) {
      const parsed = commandOf(message.slice(2, end), message.slice(end + 2), registered, {
        separator: ',',
        properties: PROPERTY_ESCAPES,
        data: DATA_ESCAPES
      })
      if (parsed) return { ...parsed, syntax: '::' }
    }
  }
  const prefix = raw.indexOf('##[')
  const close = prefix < 0 ? -1 : raw.indexOf(']', prefix)
  if (close < 0) return undefined
  const parsed = commandOf(raw.slice(prefix + 3, close), raw.slice(close + 1), registered, {
    separator: ';',
    properties: LEGACY_ESCAPES,
    data: LEGACY_ESCAPES
  })
  return parsed && { ...parsed, syntax: '##[' }
}

interface Syntax {
  separator: string
  properties: Array<[string, string]>
  data: Array<[string, string]>
}

/** `name props` + data → a command, when the name is registered (case-insensitively). */
function commandOf(
  info: string,
  data: string,
  registered: Set<string>,
  syntax: Syntax
): Omit<Parsed, 'syntax'> | undefined {
  const space = info.indexOf(' ')
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase()
  if (!registered.has(name)) return undefined
  const properties: Record<string, string> = {}
  if (space > 0) {
    for (const pair of info
      .slice(space + 1)
      .trim()
      .split(syntax.separator)) {
      const eq = pair.indexOf('=')
      // .NET Split('=', 2, RemoveEmptyEntries): a pair needs a key and a non-empty value.
      const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
      if (key !== '' && value !== '') properties[key] = unescape(value, syntax.properties)
    }
  }
  return { command: name, data: unescape(data, syntax.data), properties }
}

function unescape(value: string, escapes: Array<[string, string]>): string {
  return escapes.reduce((text, [escaped, token]) => text.split(escaped).join(token), value)
}
