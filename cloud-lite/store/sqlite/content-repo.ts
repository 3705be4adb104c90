import type Database from 'better-sqlite3';
import type { ContentRecord, ContentRepo } from '../repos/content-repo.js';
import { table } from './table.js';

export function sqliteContentRepo(db: Database.Database): ContentRepo {
  const content = table<ContentRecord>(db, { name: 'content_packages', key: 'id' });
  return {
    ...content.keyed,
    async list() {
      return content.all('SELECT * FROM content_packages ORDER BY title, id');
    },
  };
}
