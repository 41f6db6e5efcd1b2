/** A one-line progress bar on stderr, drawn only when stderr is a terminal, at most 10 times a second. */
export class ProgressBar {
  private last = 0;
  private readonly tty: boolean;
  constructor(private readonly label: string, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = !!stream.isTTY;
  }

  update(done: number, total: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const fill = Math.round(frac * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
  }

  done(): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
  }
}
