// The presenter's page, live: the room as it is when the page connects, then
// each change, as server-sent events (text/event-stream). Changes that come
// within a moment of each other go as one event: 200 attendees checking at
// once are a handful of events, not a thousand.
import { PassThrough } from 'node:stream';
import type Koa from 'koa';
import type { Attendee, Change, Room } from './store.ts';

export class LiveView {
  private readonly streams = new Set<PassThrough>();
  private readonly changed = new Set<string>();
  private readonly left = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly room: Room,
    /** What the page is told of one attendee. */
    private readonly view: (attendee: Attendee) => unknown,
    /** What the page is told first: the whole room. */
    private readonly snapshot: () => unknown,
    private readonly coalesceMs: number,
  ) {
    this.unsubscribe = room.subscribe((change: Change) => this.note(change));
    // A comment line now and then keeps idle connections open through proxies.
    this.heartbeat = setInterval(() => this.write(': still here\n\n'), 15_000).unref();
  }

  /** Answer the request with the event stream; it stays open until the page goes. */
  open(ctx: Koa.Context): void {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    const stream = new PassThrough();
    stream.write(`retry: 1000\n${frame('snapshot', this.snapshot())}`);
    this.streams.add(stream);
    ctx.res.on('close', () => {
      this.streams.delete(stream);
      stream.end();
    });
    ctx.set({ 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    ctx.type = 'text/event-stream';
    ctx.body = stream;
  }

  stop(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  private note(change: Change): void {
    if (this.streams.size === 0) return;
    if ('left' in change) {
      this.left.add(change.left);
      this.changed.delete(change.left);
    } else this.changed.add(change.attendee.id);
    this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  private flush(): void {
    this.timer = undefined;
    const attendees = [...this.changed].flatMap((id) => {
      const a = this.room.find(id);
      return a ? [this.view(a)] : [];
    });
    this.write(frame('update', { attendees, left: [...this.left] }));
    this.changed.clear();
    this.left.clear();
  }

  private write(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }
}

const frame = (event: string, data: unknown) =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
