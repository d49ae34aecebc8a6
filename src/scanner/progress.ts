/**
 * Progress on stderr: a redrawn bar on a terminal, one line per step otherwise (CI logs stay
 * readable and nothing is written when the stream is absent).
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * @example
 *   const bar = new Progress(process.stderr, 11); bar.step('API1'); bar.tick(); bar.done();
 */
export class Progress {
  private current = 0;
  private label = '';
  private requests = 0;
  private lastDraw = 0;

  constructor(
    private readonly stream: ProgressStream | undefined,
    private readonly total: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new step (check) starts. */
  step(label: string): void {
    this.current++;
    this.label = label;
    if (this.stream?.isTTY === true) this.draw(true);
    else this.stream?.write(`[${this.current}/${this.total}] ${label}\n`);
  }

  /** One request sent; the bar redraws at most ten times a second. */
  tick(): void {
    this.requests++;
    if (this.stream?.isTTY === true) this.draw(false);
  }

  done(summary: string): void {
    if (this.stream?.isTTY === true) this.stream.write('\r\x1b[2K');
    this.stream?.write(`${summary}\n`);
  }

  private draw(force: boolean): void {
    const t = this.now();
    if (!force && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const width = 24;
    const filled = Math.round((Math.max(this.current - 1, 0) / this.total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.current}/${this.total} ${this.label}  ${this.requests} requests`;
    this.stream!.write(`\r\x1b[2K${line.slice(0, (this.stream!.columns ?? 100) - 1)}`);
  }
}
