/** Keyed access shared by most tables: insert a record, get one by its key, update some fields. */
export interface Table<T, K = string> {
  insert(rec: T): Promise<void>;
  get(id: K): Promise<T | undefined>;
  update(id: K, patch: Partial<T>): Promise<void>;
}
