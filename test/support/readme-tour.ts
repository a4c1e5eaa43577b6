// Reads the README's curl tour as a script with documented outputs, and checks what it printed.
// Convention in the README: in the tour section, ```bash blocks are pasted into a second terminal;
// each `# → ` line documents one line the commands above it print. Ids and instants in a documented
// line match any value of the same shape, but one documented uuid must always stand for the same
// real uuid (and two different ones for two different uuids); everything else matches exactly.

export interface TourStep {
  /** Shell lines run for this step (commands, comments, continuations). */
  commands: string[];
  /** The lines it must print, from its `# → ` comments; empty when it must print nothing. */
  expected: string[];
  /** 1-based README line of the step's first command, for messages. */
  line: number;
}

export interface Tour {
  /** The ```sh / ```bash blocks of the section that are not for the second terminal. */
  otherBlocks: string[];
  steps: TourStep[];
}

const ARROW = '# → ';
const FENCE = /^```(\w*)\s*$/;

/** The steps of the ```bash blocks in the README section whose heading is `heading`. */
export function readTour(readme: string, heading: string): Tour {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const tour: Tour = { otherBlocks: [], steps: [] };
  let lang: string | null = null;
  let block: string[] = [];
  let step: TourStep | null = null;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i];
    if (lang === null && /^#{1,2} /.test(line)) break;
    const fence = FENCE.exec(line);
    if (fence && lang === null) {
      lang = fence[1];
      block = [];
      step = null;
      continue;
    }
    if (fence && lang !== null) {
      if (lang !== 'bash') tour.otherBlocks.push(block.join('\n'));
      lang = null;
      continue;
    }
    if (lang === null) continue;
    block.push(line);
    if (lang !== 'bash') continue;
    if (line.startsWith(ARROW)) {
      if (!step) throw new Error(`README line ${i + 1}: a documented output with no command above it`);
      step.expected.push(line.slice(ARROW.length));
      continue;
    }
    if (!step || step.expected.length > 0) {
      step = { commands: [], expected: [], line: i + 1 };
      tour.steps.push(step);
    }
    step.commands.push(line);
  }
  if (lang !== null) throw new Error(`README: unterminated code block in "${heading}"`);
  return tour;
}

const MARKER = '::readme-tour-step-end::';

/** One bash script running every step, with a marker line printed after each. */
export function tourScript(steps: TourStep[]): string {
  return steps.map((s) => `${s.commands.join('\n')}\necho '${MARKER}'\n`).join('');
}

/** What each step printed, from the script's stdout; shorter than steps if the script stopped early. */
export function splitOutput(stdout: string): string[] {
  const parts = stdout.split(`${MARKER}\n`);
  parts.pop();
  return parts;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const INSTANT = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})';
const SHAPES = new RegExp(`(${UUID})|(${INSTANT})`, 'g');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Matches printed lines against documented ones. Keeps the uuid bindings across calls, so the
 * same documented id must be the same real id everywhere in the tour.
 */
export class OutputMatcher {
  private readonly byDocumented = new Map<string, string>();
  private readonly byActual = new Map<string, string>();

  /** Null when `actual` is what `expected` documents, else why not. */
  mismatch(expected: string[], actual: string): string | null {
    const printed = actual === '' ? [] : actual.replace(/\n$/, '').split('\n');
    if (actual !== '' && !actual.endsWith('\n')) return 'the output does not end with a newline';
    if (printed.length !== expected.length) return `printed ${printed.length} line(s), documented ${expected.length}`;
    const bindings: Array<[string, string]> = [];
    for (let i = 0; i < expected.length; i++) {
      const ids: string[] = [];
      let pattern = '';
      let last = 0;
      for (const m of expected[i].matchAll(SHAPES)) {
        pattern += escape(expected[i].slice(last, m.index));
        if (m[1]) {
          ids.push(m[1]);
          pattern += `(${UUID})`;
        } else pattern += INSTANT;
        last = m.index + m[0].length;
      }
      pattern += escape(expected[i].slice(last));
      const found = new RegExp(`^${pattern}$`).exec(printed[i]);
      if (!found) return `line ${i + 1} differs`;
      ids.forEach((id, k) => bindings.push([id, found[k + 1]]));
    }
    for (const [documented, real] of bindings) {
      const seen = this.byDocumented.get(documented);
      if (seen !== undefined && seen !== real)
        return `documented id ${documented} stood for ${seen} before, here for ${real}`;
      const other = this.byActual.get(real);
      if (other !== undefined && other !== documented)
        return `id ${real} is documented both as ${other} and as ${documented}`;
      this.byDocumented.set(documented, real);
      this.byActual.set(real, documented);
    }
    return null;
  }
}
