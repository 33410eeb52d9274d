// The listeners of an event bus's process, by key (topic and id): shared by the Redis and PostgreSQL buses, which
// differ only in how an event reaches the process.

export class ListenerSets {
  private readonly sets = new Map<string, Set<() => void>>();

  /** Adds `listener` as an entry of its own (subscribed twice, removed twice); `first` when the key was empty. */
  add(key: string, listener: () => void): { entry: () => void; first: boolean } {
    const entry = () => listener();
    let set = this.sets.get(key);
    const first = !set;
    if (!set) {
      set = new Set();
      this.sets.set(key, set);
    }
    set.add(entry);
    return { entry, first };
  }

  /** Removes the entry; true when that left the key with no listener. */
  remove(key: string, entry: () => void): boolean {
    const set = this.sets.get(key);
    if (!set?.delete(entry) || set.size > 0) return false;
    this.sets.delete(key);
    return true;
  }

  dispatch(key: string): void {
    for (const listener of this.sets.get(key) ?? []) listener();
  }

  keys(): string[] {
    return [...this.sets.keys()];
  }

  clear(): void {
    this.sets.clear();
  }
}
