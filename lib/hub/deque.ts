/**
 * A FIFO queue on a growable ring buffer: O(1) push and shift without the
 * re-indexing `Array#shift` does on long arrays. The hub's ready queue.
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    const items = this.#items;
    if (this.#length === items.length) {
      this.#grow();
      return this.push(item);
    }
    items[(this.#head + this.#length) & (items.length - 1)] = item;
    this.#length++;
  }

  /** Puts `item` back in front of the oldest one. */
  unshift(item: T): void {
    const items = this.#items;
    if (this.#length === items.length) {
      this.#grow();
      return this.unshift(item);
    }
    this.#head = (this.#head - 1) & (items.length - 1);
    items[this.#head] = item;
    this.#length++;
  }

  /** Removes the oldest occurrence of `item` (O(n)); false if it is not there. */
  remove(item: T): boolean {
    const items = this.#items;
    const mask = items.length - 1;
    for (let i = 0; i < this.#length; i++) {
      if (items[(this.#head + i) & mask] !== item) continue;
      for (let j = i; j < this.#length - 1; j++) items[(this.#head + j) & mask] = items[(this.#head + j + 1) & mask];
      items[(this.#head + this.#length - 1) & mask] = undefined;
      this.#length--;
      return true;
    }
    return false;
  }

  /** The oldest item, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes and returns the oldest item; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const items = this.#items;
    const item = items[this.#head];
    items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (items.length - 1);
    this.#length--;
    return item;
  }

  /** The items, oldest first (for a snapshot; do not change the queue while iterating). */
  *[Symbol.iterator](): IterableIterator<T> {
    const items = this.#items;
    const mask = items.length - 1;
    for (let i = 0; i < this.#length; i++) yield items[(this.#head + i) & mask]!;
  }

  #grow(): void {
    const old = this.#items;
    const items: (T | undefined)[] = new Array(old.length * 2);
    const mask = old.length - 1;
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & mask];
    this.#items = items;
    this.#head = 0;
  }
}
