// "Has the client gone away?" for one request, with at most a couple of listeners. A full
// AbortController (EventTarget, AbortSignal, listener options) per request showed up in the
// hot-path profile; this is all the pipeline needs.
export class ClientWatch {
  aborted = false;
  #listeners: (() => void)[] = [];

  onAbort(fn: () => void): void {
    this.#listeners.push(fn);
  }

  offAbort(fn: () => void): void {
    const i = this.#listeners.indexOf(fn);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const list = this.#listeners;
    this.#listeners = [];
    for (const fn of list) fn();
  }
}
